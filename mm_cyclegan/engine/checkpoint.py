"""Checkpoint policy: what our checkpoints hold and how they are read.

Our runner writes every checkpoint in *plain* form: tensors, ``dict``,
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool`` and ``None``.
The few other objects a training state holds (MMEngine's message-hub
``HistoryBuffer``, numpy arrays such as the NumPy RNG state, numpy scalars)
are converted to tagged dicts on save (:func:`encode_state`) and rebuilt on
load (:func:`decode_state`). So every file is read with
``torch.load(weights_only=True)``: nothing in a checkpoint can run code.

* :func:`read_checkpoint` with ``purpose='resume'`` accepts only such plain
  files; anything else (an older full-pickle checkpoint, a planted payload)
  is refused with :class:`UnsafeCheckpointError`, naming the type.
* With ``purpose='weights'`` (``load_from``, ``tools/test.py``,
  translation) a file that needs other types is read *tensors-only*: an
  unpickler that builds tensors and containers and replaces every other
  object by an inert placeholder (no constructor, no function of the file
  is ever called); the names of what was ignored are reported.
* :func:`load_model_weights` loads a state dict into a model strictly:
  missing, unexpected and shape-mismatched keys are an error that lists them
  and names the checkpoint (and the config), unless a partial load is asked
  for explicitly.
"""
from __future__ import annotations

import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

import numpy as np
import torch

__all__ = [
    'CHECKPOINT_FORMAT', 'CheckpointError', 'CheckpointMismatchError',
    'DamagedCheckpointError', 'LoadReport', 'UnsafeCheckpointError',
    'compare_state_dicts',
    'decode_state', 'encode_state',
    'is_intact_checkpoint', 'load_model_weights', 'non_finite_tensors',
    'read_checkpoint'
]

#: Stored under ``'mm_cyclegan_format'``; 2 = plain (weights_only) form.
CHECKPOINT_FORMAT = 2
_TAG = '__mm_cyclegan_type__'
# numpy dtypes a tensor cannot hold are stored widened and narrowed back.
_WIDEN = {'uint16': np.int64, 'uint32': np.int64, 'uint64': np.int64}


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


def _tensors_only_pickle(refused: set[str]) -> Any:
    """A ``pickle_module`` for ``torch.load`` that records and neutralises
    every global outside :data:`_TENSOR_GLOBALS` (and storage types)."""

    class Unpickler(pickle.Unpickler):

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _TENSOR_GLOBALS or (
                    module == 'torch' and name.endswith('Storage')):
                return super().find_class(module, name)
            refused.add(f'{module}.{name}')
            return _Inert

    class Module:
        load = pickle.load
        loads = pickle.loads

    Module.Unpickler = Unpickler  # type: ignore[attr-defined]
    return Module


_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')


def _refused_type(err: Exception) -> str:
    found = _GLOBAL_RE.findall(str(err))
    return found[0] if found else str(err).strip().splitlines()[-1][:200]


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
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'


def read_checkpoint(path: str, map_location: Any = 'cpu',
                    purpose: str = 'weights') -> dict:
    """Read a local checkpoint without ever running code from it.

    Args:
        path: Local file.
        map_location: As for ``torch.load``.
        purpose: ``'resume'``: the file must be plain (written by this
            version); anything else raises :class:`UnsafeCheckpointError`
            naming the first refused type. ``'weights'``: a file that is not
            plain is read tensors-only (other objects ignored, named in
            ``checkpoint['_ignored_types']``).
    """
    if purpose not in ('resume', 'weights'):
        raise ValueError(f"purpose must be 'resume' or 'weights', got "
                         f'{purpose!r}')
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if not is_intact_checkpoint(path) and not _is_legacy_file(path):
        raise DamagedCheckpointError(
            f'{path} is truncated or damaged, or not a PyTorch checkpoint')
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
        ignored: set[str] = set()
        loaded = torch.load(path, map_location=map_location,
                            weights_only=False,
                            pickle_module=_tensors_only_pickle(ignored))
        if not isinstance(loaded, dict):
            raise UnsafeCheckpointError(
                f'{path} holds a {type(loaded).__name__}, not a checkpoint '
                'dict') from None
        loaded = decode_state(loaded)
        loaded['_ignored_types'] = sorted(ignored)
        return loaded
    if not isinstance(loaded, dict):
        raise UnsafeCheckpointError(
            f'{path} holds a {type(loaded).__name__}, not a checkpoint dict')
    if purpose == 'resume' and loaded.get('mm_cyclegan_format') is None:
        raise UnsafeCheckpointError(
            f'Refusing to resume from {path}: it was not written by '
            'mm_cyclegan (no training state in plain form). Use --load-from '
            f'{path} to start a new run from its weights.')
    return decode_state(loaded)


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


def _state_dict_of(checkpoint: dict, source: str) -> dict:
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'{source}: state_dict is a {type(state).__name__}, not a dict')
    tensors = {}
    for key, value in state.items():
        if key in ('_ignored_types', 'mm_cyclegan_format'):
            continue
        if not isinstance(value, torch.Tensor):
            raise CheckpointMismatchError(
                f'{source}: state_dict entry {key!r} is not a tensor '
                f'({type(value).__name__}); refusing to load it')
        tensors[re.sub(r'^module\.', '', str(key))] = value
    return tensors


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
