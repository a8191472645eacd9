"""Reading a checkpoint file without running code from it."""
from __future__ import annotations

import os.path as osp
import pickle
import tarfile
import zipfile
from typing import Any, Optional

import torch

from .errors import (
    FORMAT_KEY,
    CheckpointError,
    DamagedCheckpointError,
    LoadedCheckpoint,
    UnsafeCheckpointError,
)
from .plain import decode_state
from .unpickler import RefusedGlobal, refused_type, tensors_only_pickle


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
                            pickle_module=tensors_only_pickle(ignored))
    except RefusedGlobal as err:
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
        refused = refused_type(err)
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
    if purpose == 'resume' and loaded.get(FORMAT_KEY) is None:
        raise UnsafeCheckpointError(
            f'Refusing to resume from {path}: it was not written by '
            'mm_cyclegan (no training state in plain form). Use --load-from '
            f'{path} to start a new run from its weights.')
    return LoadedCheckpoint(decode_state(loaded))
