"""Checkpoint policy: what our checkpoints hold and how they are read.

Our runner writes every checkpoint in *plain* form: tensors, ``dict``,
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool`` and ``None``.
The few other objects a training state holds (MMEngine's message-hub
``HistoryBuffer``, numpy arrays such as the NumPy RNG state, numpy scalars)
are converted to tagged dicts on save (:func:`encode_state`) and rebuilt on
load (:func:`decode_state`). So every file is read with
``torch.load(weights_only=True)``: nothing in a checkpoint can run code.

* :func:`read_checkpoint` with ``purpose='resume'`` accepts only such plain
  zip-format files; anything else (a legacy pre-zip file, an older
  full-pickle checkpoint, a planted payload) is refused with
  :class:`UnsafeCheckpointError`, naming the reason.
* With ``purpose='weights'`` (``load_from``, ``tools/test.py``,
  translation) a file that needs other types is read *tensors-only*: an
  unpickler that builds tensors and containers and replaces every other
  object by an inert placeholder (no constructor, no function of the file
  is ever called); the names of what was ignored are reported. The other
  pickles of a legacy file (magic number, protocol, system info, storage
  keys) must be plain data: any global in them is refused. Tar-format
  (PyTorch < 0.4) files and TorchScript archives are refused.
* A work dir's ``last_checkpoint`` names a file inside it
  (:func:`read_checkpoint_pointer`), for auto-resume, translation and the
  page alike.
* :func:`load_model_weights` loads a state dict into a model strictly:
  missing, unexpected and shape-mismatched keys are an error that lists them
  and names the checkpoint (and the config), unless a partial load is asked
  for explicitly.
"""
from __future__ import annotations

import glob
import io
import os
import os.path as osp
import pickle
import re
import tarfile
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

__all__ = [
    'CHECKPOINT_FORMAT', 'CheckpointError', 'CheckpointMismatchError',
    'DamagedCheckpointError', 'LoadReport', 'LoadedCheckpoint',
    'POINTER_NAME', 'strip_module_prefix',
    'UnsafeCheckpointError', 'check_state_dict_tensors', 'checkpoint_damage',
    'compare_state_dicts',
    'decode_state', 'encode_state', 'find_resumable_checkpoint',
    'is_intact_checkpoint', 'keep_damaged', 'load_model_weights',
    'non_finite_tensors', 'read_checkpoint', 'read_checkpoint_pointer'
]

#: Stored under ``'mm_cyclegan_format'``; 2 = plain (weights_only) form.
CHECKPOINT_FORMAT = 2
_TAG = '__mm_cyclegan_type__'
# numpy dtypes a tensor cannot hold are stored widened and narrowed back.
_WIDEN = {'uint16': np.int64, 'uint32': np.int64, 'uint64': np.int64}


class LoadedCheckpoint(dict):
    """A checkpoint as :func:`read_checkpoint` returns it: the file's dict,
    plus ``ignored_types``, the objects tensors-only reading left out
    (empty for a plain file)."""

    def __init__(self, data: Mapping,
                 ignored_types: Sequence[str] = ()) -> None:
        super().__init__(data)
        self.ignored_types = list(ignored_types)


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message says why."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint holds objects that tensors-only loading refuses."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


class DamagedCheckpointError(CheckpointError):
    """A checkpoint file is truncated or not a checkpoint at all."""


# --------------------------------------------------------------------------
# plain form


def encode_state(obj: Any, where: str = 'checkpoint') -> Any:
    """Return ``obj`` with every value in a form ``weights_only`` accepts.

    Raises ``TypeError`` naming the type and where it is (e.g.
    ``checkpoint['meta']['x']``) for anything else, so a checkpoint that
    could not be resumed safely is never written.
    """
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, np.generic):  # before float: np.float64 is a float
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes,
                                       torch.Tensor, torch.Size)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f'{where}: numpy array of Python objects cannot '
                            'be stored in a checkpoint')
        dtype = str(obj.dtype)
        data = np.ascontiguousarray(obj).astype(_WIDEN.get(dtype, obj.dtype))
        return {_TAG: 'ndarray', 'dtype': dtype,
                'data': torch.from_numpy(data.copy())}
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {_TAG: 'HistoryBuffer', 'max_length': int(obj.max_length),
                'log': encode_state(np.asarray(log), where + '.log'),
                'count': encode_state(np.asarray(count), where + '.count')}
    if isinstance(obj, dict):
        if _TAG in obj:
            raise TypeError(f'{where}: key {_TAG!r} is reserved')
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool)) and \
                    key is not None:
                raise TypeError(f'{where}: dict key of type '
                                f'{type(key).__qualname__} cannot be stored')
            out[key] = encode_state(value, f'{where}[{key!r}]')
        return out
    if isinstance(obj, (list, tuple)):
        items = [encode_state(v, f'{where}[{i}]') for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise TypeError(
        f'{where}: objects of type {type(obj).__module__}.'
        f'{type(obj).__qualname__} cannot be stored in a checkpoint that '
        'loads with weights_only=True; store tensors, numbers, strings and '
        'containers of them')


def decode_state(obj: Any) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(obj, dict):
        tag = obj.get(_TAG)
        if tag == 'ndarray':
            return obj['data'].numpy().astype(obj['dtype'])
        if tag == 'HistoryBuffer':
            from mmengine.logging import HistoryBuffer
            return HistoryBuffer(list(decode_state(obj['log'])),
                                 list(decode_state(obj['count'])),
                                 obj['max_length'])
        if tag is not None:
            raise UnsafeCheckpointError(f'unknown stored type {tag!r}')
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = decode_state(value)
        return out
    if isinstance(obj, list):
        return [decode_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(decode_state(v) for v in obj)
    return obj


# --------------------------------------------------------------------------
# reading


class _Inert:
    """Stands for any object that tensors-only reading refuses to build."""

    # torch's legacy reader asks a pickled container class for this before
    # writing a source patch file; an inert placeholder never asks for one.
    dump_patches = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> '_Inert':
        return _Inert()


# Globals needed for tensors and containers; none of them runs file code.
_TENSOR_GLOBALS = {
    ('collections', 'OrderedDict'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('torch', 'Size'),
}


def _is_storage_type(module: str, name: str) -> bool:
    """``torch.FloatStorage`` and the like: a plain name (no dotted path
    into torch) naming one of torch's storage classes."""
    return (module == 'torch' and name.isidentifier()
            and name.endswith('Storage')
            and isinstance(getattr(torch, name, None), type))


class _RefusedGlobal(pickle.UnpicklingError):
    """A pickle that must hold plain data names a global."""


class _PlainUnpickler(pickle.Unpickler):
    """Plain data only: any global, extension or persistent id is refused.

    torch's legacy reader loads the header (magic number, protocol, system
    info) and the trailer (storage keys) through ``pickle_module.load``;
    they hold numbers, strings and lists, nothing else.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise _RefusedGlobal(f'GLOBAL {module}.{name} in a part of the file '
                             'that holds plain data')

    def persistent_load(self, pid: Any) -> Any:
        raise _RefusedGlobal('a persistent id in a part of the file that '
                             'holds plain data')


def _plain_load(file: Any, **kwargs: Any) -> Any:
    return _PlainUnpickler(file, **kwargs).load()


def _plain_loads(data: bytes, **kwargs: Any) -> Any:
    return _PlainUnpickler(io.BytesIO(data), **kwargs).load()


def _tensors_only_pickle(refused: set[str]) -> Any:
    """A ``pickle_module`` for ``torch.load`` that never runs file code.

    The main pickle (``Unpickler``) builds tensors and containers; every
    other global is recorded in ``refused`` and replaced by an inert
    placeholder, and a persistent id other than a tensor storage (a legacy
    whole-module container) is refused. ``load``/``loads`` (the legacy
    format's header and trailer pickles) accept plain data only.
    """

    class Unpickler(pickle.Unpickler):

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _TENSOR_GLOBALS or _is_storage_type(
                    module, name):
                return super().find_class(module, name)
            refused.add(f'{module}.{name}')
            return _Inert

        # torch assigns its storage loader to ``persistent_load`` after
        # building the unpickler: wrap it so only storages come through.
        @property
        def persistent_load(self) -> Any:
            return pickle.Unpickler.persistent_load.__get__(self)

        @persistent_load.setter
        def persistent_load(self, load: Any) -> None:

            def storages_only(pid: Any) -> Any:
                kind = pid[0] if isinstance(pid, tuple) and pid else pid
                if isinstance(kind, bytes):
                    kind = kind.decode('ascii', 'replace')
                if kind != 'storage':
                    raise _RefusedGlobal(
                        f'persistent id of kind {str(kind)[:40]!r} (a '
                        'pickled module container), not a tensor storage')
                return load(pid)

            pickle.Unpickler.persistent_load.__set__(  # type: ignore
                self, storages_only)

    class Module:
        load = staticmethod(_plain_load)
        loads = staticmethod(_plain_loads)

    Module.Unpickler = Unpickler  # type: ignore[attr-defined]
    return Module


_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')


def _refused_type(err: Exception) -> str:
    found = _GLOBAL_RE.findall(str(err))
    return found[0] if found else str(err).strip().splitlines()[-1][:200]


def checkpoint_damage(path: str) -> Optional[str]:
    """Why ``path`` is provably damaged, or ``None`` when it looks intact.

    Reads no pickle. A zip-format file is intact when its directory and
    every member's CRC check out; a legacy (pre-zip) ``torch.save`` file
    cannot be checked without unpickling and counts as intact (whether it
    may be read is :func:`read_checkpoint`'s decision). Anything else (a
    short or empty file, a zip with a CRC error, not a checkpoint at all)
    is damaged.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        if _is_legacy_file(path):
            return None
        return 'truncated, or not a PyTorch checkpoint'
    except (OSError, EOFError, ValueError) as err:
        return f'unreadable ({type(err).__name__}: {err})'
    if bad is not None:
        return f'CRC error in member {bad!r}'
    return None


def is_intact_checkpoint(path: str) -> bool:
    """``True`` when ``path`` is a complete (zip) checkpoint file.

    Checks the zip directory and every member's CRC, without unpickling; a
    truncated or damaged file fails.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def _is_legacy_file(path: str) -> bool:
    """A pre-zip ``torch.save`` file starts with a pickle protocol byte."""
    try:
        with open(path, 'rb') as f:
            return f.read(1) == b'\x80'
    except OSError:
        return False


def _check_is_file(path: str, what: str = 'checkpoint') -> None:
    if osp.isdir(path):
        raise CheckpointError(f'{what} {path} is a directory, not a file')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')


def _tensors_only_load(path: str, map_location: Any,
                       zipped: bool) -> LoadedCheckpoint:
    """The ``weights_only=False`` fallback with the tensors-only pickle
    module; every error becomes an :class:`UnsafeCheckpointError`.
    ``zipped``: the caller's :func:`is_intact_checkpoint` (read once)."""
    if tarfile.is_tarfile(path):
        raise UnsafeCheckpointError(
            f'{path} is in the tar format of PyTorch < 0.4, which is not '
            'read; load and re-save it with an old PyTorch you trust')
    if zipped:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith('/constants.pkl') or n == 'constants.pkl'
               for n in names):
            raise UnsafeCheckpointError(
                f'{path} is a TorchScript archive (code), not a checkpoint')
    ignored: set[str] = set()
    try:
        loaded = torch.load(path, map_location=map_location,
                            weights_only=False,
                            pickle_module=_tensors_only_pickle(ignored))
    except _RefusedGlobal as err:
        raise UnsafeCheckpointError(
            f'Refusing to read {path}: {err}. Nothing of it ran.') from None
    except Exception as err:  # a crafted or foreign stream: say what broke
        raise UnsafeCheckpointError(
            f'Cannot read {path} tensors-only: {type(err).__name__}: '
            f'{str(err)[:300]}') from None
    if not isinstance(loaded, dict):
        raise UnsafeCheckpointError(
            f'{path} holds a {type(loaded).__name__}, not a checkpoint dict')
    return LoadedCheckpoint(decode_state(loaded), sorted(ignored))


def read_checkpoint(path: str, map_location: Any = 'cpu',
                    purpose: str = 'weights') -> LoadedCheckpoint:
    """Read a local checkpoint without ever running code from it.

    Args:
        path: Local file.
        map_location: As for ``torch.load``.
        purpose: ``'resume'``: the file must be plain and in zip format
            (written by this version); anything else raises
            :class:`UnsafeCheckpointError` naming the first refused type.
            ``'weights'``: a file that is not plain is read tensors-only
            (other objects ignored, named in
            ``checkpoint.ignored_types``); the header and trailer pickles
            of a legacy file must be plain data).
    """
    if purpose not in ('resume', 'weights'):
        raise ValueError(f"purpose must be 'resume' or 'weights', got "
                         f'{purpose!r}')
    path = osp.expanduser(str(path))
    _check_is_file(path)
    zipped = is_intact_checkpoint(path)
    if not zipped and not _is_legacy_file(path):
        raise DamagedCheckpointError(
            f'{path} is truncated or damaged, or not a PyTorch checkpoint')
    if purpose == 'resume' and not zipped:
        raise UnsafeCheckpointError(
            f'Refusing to resume from {path}: it is in the legacy (pre-zip) '
            'torch.save format, which mm_cyclegan never writes, so it is '
            'not a training state of this version. Nothing was unpickled. '
            f'Use --load-from {path} to start a new run from its weights '
            '(tensors-only), or move it out of the work dir.')
    try:
        loaded = torch.load(path, map_location=map_location,
                            weights_only=True)
    except pickle.UnpicklingError as err:
        refused = _refused_type(err)
        if purpose == 'resume':
            raise UnsafeCheckpointError(
                f'Refusing to resume from {path}: it holds an object of type '
                f'{refused}, and resume state is read with '
                'weights_only=True (tensors, numbers, strings, containers) '
                'so that no code from a checkpoint ever runs. Nothing was '
                'unpickled. A checkpoint written by an older mm_cyclegan, or '
                'by another program, cannot be resumed; use --load-from '
                f'{path} to start a new run from its weights (tensors-only).'
            ) from None
        return _tensors_only_load(path, map_location, zipped)
    except RuntimeError as err:  # e.g. a TorchScript archive
        raise UnsafeCheckpointError(
            f'Cannot read {path} as a checkpoint: {str(err)[:300]}') from None
    if not isinstance(loaded, dict):
        raise UnsafeCheckpointError(
            f'{path} holds a {type(loaded).__name__}, not a checkpoint dict')
    if purpose == 'resume' and loaded.get('mm_cyclegan_format') is None:
        raise UnsafeCheckpointError(
            f'Refusing to resume from {path}: it was not written by '
            'mm_cyclegan (no training state in plain form). Use --load-from '
            f'{path} to start a new run from its weights.')
    return LoadedCheckpoint(decode_state(loaded))


# --------------------------------------------------------------------------
# a work dir's checkpoints

POINTER_NAME = 'last_checkpoint'
_ITER_RE = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def _inside(path: str, folder: str) -> bool:
    real, root = osp.realpath(path), osp.realpath(folder)
    return real != root and osp.commonpath([real, root]) == root


def read_checkpoint_pointer(work_dir: str) -> Optional[str]:
    """The file a work dir's ``last_checkpoint`` names, or ``None``.

    ``None`` when there is no pointer file (or it is empty). The pointer
    names a file inside the work dir: a path relative to it, as our runner
    writes. An old absolute pointer (MMEngine's form) is taken by its file
    name inside this work dir (a copied or moved work dir means its own
    files), never followed to where it points. Whatever the pointer says,
    the result, symlinks resolved, must lie inside the work dir; else
    :class:`CheckpointError` names the pointer file and what it named. The
    returned file may not exist.
    """
    pointer = osp.join(work_dir, POINTER_NAME)
    if not osp.isfile(pointer):
        return None
    with open(pointer, encoding='utf-8', errors='replace') as f:
        named = f.read(4096).strip()
    if not named:
        return None
    target = osp.join(work_dir, osp.basename(named) if osp.isabs(named)
                      else named)
    if '\0' in named or not _inside(target, work_dir):
        raise CheckpointError(
            f'{pointer} names {named!r}, which is not a file inside the work '
            f'dir {work_dir}; a last_checkpoint pointer must name a file of '
            'its own work dir (relative, no "..", no symlink leading out). '
            'Fix or delete the pointer.')
    return osp.normpath(target)


def keep_damaged(path: str, reason: str,
                 logger: Optional[Callable[[str], None]] = None) -> str:
    """Rename a damaged checkpoint to ``<path>.damaged`` (``.damaged.N``
    when taken), so nothing overwrites it; returns the new name."""
    from mmengine.dist import is_main_process
    kept = path + '.damaged'
    number = 0
    while osp.lexists(kept):
        number += 1
        kept = f'{path}.damaged.{number}'
    if is_main_process():
        os.replace(path, kept)
    if logger is not None:
        logger(f'Skipping {path}: the file is damaged ({reason}); kept as '
               f'{kept}.')
    return kept


def find_resumable_checkpoint(
        work_dir: str,
        logger: Optional[Callable[[str], None]] = None) -> Optional[str]:
    """Return the newest checkpoint in ``work_dir`` to resume from, or
    ``None``.

    Candidates, in order: the file ``last_checkpoint`` names (see
    :func:`read_checkpoint_pointer`; a pointer leading out of the work dir
    is a :class:`CheckpointError`), then ``iter_N.pth`` / ``epoch_N.pth``
    from the largest ``N`` down. A missing candidate is skipped. Only a
    provably damaged one (short read, zip CRC error,
    :func:`checkpoint_damage`) is skipped too, and kept renamed to
    ``*.damaged``; each is reported to ``logger``. The first other
    candidate is returned even when reading it will be refused (a legacy
    or unsafe file): resuming then stops with the reason instead of
    starting over and overwriting it. ``*.pth.tmp`` files of an interrupted
    save are never returned.
    """
    candidates = []
    named = read_checkpoint_pointer(work_dir)
    if named is not None:
        candidates.append(named)
    numbered = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _ITER_RE.search(osp.basename(path))
        if match:
            numbered.append((int(match.group(1)), osp.normpath(path)))
    candidates += [p for _, p in sorted(numbered, reverse=True)
                   if p != named]
    for path in candidates:
        if not osp.isfile(path):
            if logger is not None:
                logger(f'last_checkpoint names {path}, which does not '
                       'exist; looking for other checkpoints.')
            continue
        damage = checkpoint_damage(path)
        if damage is None:
            return path
        keep_damaged(path, damage, logger)
    return None


# --------------------------------------------------------------------------
# weights into a model


@dataclass
class LoadReport:
    """What :func:`load_model_weights` loaded and left out."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every key of model and checkpoint matched."""
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, first: int = 5,
                 labels: tuple = ('missing in checkpoint', 'not in model',
                                  'shape mismatch')) -> str:
        """One line per kind of problem, the first ``first`` keys each;
        ``labels`` name the missing, unexpected and mismatched kinds."""
        lines = []
        for label, keys in zip(labels, (self.missing, self.unexpected,
                                        self.mismatched)):
            if keys:
                more = f' (+{len(keys) - first} more)' \
                    if len(keys) > first else ''
                lines.append(f'  {label} ({len(keys)}): '
                             f'{", ".join(keys[:first])}{more}')
        return '\n'.join(lines)


_NOT_WEIGHTS = ('mm_cyclegan_format',)


def check_state_dict_tensors(state: Mapping, source: str) -> None:
    """Every entry of a state dict must be a tensor: the one rule for
    training (``load_from``), testing and translation. Raises
    :class:`CheckpointMismatchError` naming the first other entry."""
    for key, value in state.items():
        if key in _NOT_WEIGHTS:
            continue
        if not isinstance(value, torch.Tensor):
            raise CheckpointMismatchError(
                f'{source}: state_dict entry {key!r} is not a tensor '
                f'({type(value).__name__}); refusing to load it')


def _state_dict_of(checkpoint: dict, source: str) -> dict:
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'{source}: state_dict is a {type(state).__name__}, not a dict')
    check_state_dict_tensors(state, source)
    return strip_module_prefix(
        {k: v for k, v in state.items() if k not in _NOT_WEIGHTS})


def strip_module_prefix(state: Mapping) -> dict:
    """``state`` with a leading ``module.`` (a DataParallel/DDP wrapper's
    prefix) removed from every key."""
    return {re.sub(r'^module\.', '', str(key)): value
            for key, value in state.items()}


def compare_state_dicts(own: Mapping, state: Mapping) -> LoadReport:
    """Compare a model's state dict (``own``) with a file's (``state``)
    key by key: which load, which are missing, unexpected or of another
    shape."""
    report = LoadReport()
    for key, value in own.items():
        if key not in state:
            report.missing.append(key)
        elif tuple(state[key].shape) != tuple(value.shape):
            report.mismatched.append(
                f'{key} {tuple(state[key].shape)} vs model '
                f'{tuple(value.shape)}')
        else:
            report.loaded.append(key)
    report.unexpected = [k for k in state if k not in own]
    return report


def load_model_weights(model: torch.nn.Module,
                       checkpoint: Union[str, dict],
                       strict: bool = True,
                       config: Optional[str] = None,
                       source: Optional[str] = None) -> LoadReport:
    """Load a checkpoint's weights into ``model``; strict by default.

    Args:
        model: The (unwrapped) model, e.g. a ``CycleGAN`` with its four
            networks.
        checkpoint: A path (read tensors-only, :func:`read_checkpoint`) or
            an already read checkpoint dict (with ``state_dict`` or itself a
            state dict).
        strict: ``True``: any missing, unexpected or shape-mismatched key
            raises :class:`CheckpointMismatchError` listing the first few,
            and nothing is loaded. ``False`` (a deliberate partial load):
            the matching keys are loaded, the rest reported; still an error
            when nothing matches.
        config: Config file named in errors.
        source: Name of the checkpoint in errors (default: the path).

    Returns:
        A :class:`LoadReport`.
    """
    if isinstance(checkpoint, str):
        source = source or checkpoint
        checkpoint = read_checkpoint(checkpoint, purpose='weights')
    source = source or 'checkpoint'
    state = _state_dict_of(checkpoint, source)
    own = model.state_dict()
    report = compare_state_dicts(own, state)
    where = f'checkpoint {source}' + (f' and config {config}'
                                      if config else '')
    if not report.loaded and own:
        raise CheckpointMismatchError(
            f'None of the weights in {where} fit the model:\n'
            f'{report.describe()}')
    if strict and not report.complete:
        raise CheckpointMismatchError(
            f'The weights in {where} do not match the model:\n'
            f'{report.describe()}\nIs it a checkpoint of this '
            'architecture? For a deliberate partial load (e.g. fine-tuning '
            'with a new discriminator) pass --partial (config key '
            'load_partial=True).')
    from mmengine.runner.checkpoint import load_state_dict

    # MMEngine's loader, not nn.Module.load_state_dict: it descends through
    # DDP wrappers, whose '.module.' the checkpoint keys never hold (torch's
    # would silently skip every wrapped network; mismatches are reported
    # above, so its own message is silenced).
    load_state_dict(model, {k: state[k] for k in report.loaded},
                    strict=False, logger='silent')
    return report


def non_finite_tensors(state: dict, prefix: str = '') -> list[str]:
    """Names of the floating-point tensors in ``state`` holding NaN/inf."""
    bad = []
    for key, value in state.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            bad += non_finite_tensors(value, name + '.')
        elif (isinstance(value, torch.Tensor) and value.is_floating_point()
              and not bool(torch.isfinite(value).all())):
            bad.append(name)
    return bad
