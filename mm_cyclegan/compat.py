"""Every workaround for an upstream bug that mm_cyclegan needs, in one place.

Each entry names the upstream problem and has a test in
``tests/test_compat.py`` that fails without it. Version pins are preferred to
patches (numpy 1.26 is pinned rather than aliasing ``np.bool8``); what is
here could not be solved by a pin.

* :func:`patch_mmcv_ext_loader` -- mmcv-lite ships no compiled ops, yet
  ``import mmagic.models`` imports ``mmcv.ops`` through unrelated editors
  (BasicVSR++, EDVR, TDAN, StyleGAN2). See ``../shared/STACK.md`` item 2 and
  open-mmlab/mmcv#2938 ("No module named 'mmcv._ext'" with mmcv-lite).
* :func:`safe_checkpoint_loading` / :func:`trusted_checkpoint_loading` --
  MMEngine 0.10.7 calls ``torch.load`` without ``weights_only``
  (open-mmlab/mmengine#1605). Under torch >= 2.6 that default is ``True`` and
  refuses MMEngine's own resume checkpoints. We load *our own* resume
  checkpoints with full unpickling and everything else (``load_from``,
  pretrained weights) tensors-only.
* :func:`init_cpu_distributed` -- MMEngine's ``init_dist`` always calls
  ``torch.cuda.set_device`` (open-mmlab/mmengine#1335), which fails on a
  machine without GPUs. We initialise a gloo process group ourselves there.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import os.path as osp
import threading
from typing import Any, Iterator

import torch

_state = threading.local()


class MissingCompiledOps:
    """Stands in for ``mmcv._ext`` when mmcv-lite has no compiled ops.

    Importing a module that *refers* to a compiled op works; *calling* one
    raises, naming the op and the fix.
    """

    def __init__(self, name: str, funcs: list[str]) -> None:
        self._name = name
        self._funcs = list(funcs)

    def __getattr__(self, op: str) -> Any:
        if op.startswith('__'):
            raise AttributeError(op)
        raise RuntimeError(
            f'mmcv compiled op {op!r} (mmcv.{self._name}) is not available: '
            'mmcv-lite has no compiled extensions. CycleGAN never needs one; '
            'install full mmcv (pip install "mmcv>=2.0,<2.2" built for your '
            'torch) to use the model that does.')


def patch_mmcv_ext_loader() -> bool:
    """Make ``mmcv.ops`` importable without ``mmcv._ext``.

    Returns ``True`` when the patch was applied, ``False`` when compiled ops
    exist (full mmcv) and nothing had to change. A stub module in
    ``sys.modules`` would break MMEngine's ``mmcv_full_available()``, which
    probes ``mmcv._ext`` with ``find_loader``; wrapping ``load_ext`` does not.
    """
    import mmcv.utils.ext_loader as ext_loader
    if importlib.util.find_spec('mmcv._ext') is not None:
        return False
    if getattr(ext_loader.load_ext, '_mm_cyclegan_patched', False):
        return True
    original = ext_loader.load_ext

    def load_ext(name: str, funcs: list[str]) -> Any:
        try:
            return original(name, funcs)
        except ModuleNotFoundError:
            return MissingCompiledOps(name, funcs)

    load_ext._mm_cyclegan_patched = True  # type: ignore[attr-defined]
    ext_loader.load_ext = load_ext
    return True


# --------------------------------------------------------------------------
# checkpoint loading policy


def _weights_only_default() -> bool:
    return not getattr(_state, 'trusted', False)


@contextlib.contextmanager
def trusted_checkpoint_loading() -> Iterator[None]:
    """Within this block, local checkpoints are fully unpickled.

    Used only to resume from checkpoints that our own runs wrote (they hold
    MMEngine's message hub and numpy RNG states, which ``weights_only``
    refuses).
    """
    previous = getattr(_state, 'trusted', False)
    _state.trusted = True
    try:
        yield
    finally:
        _state.trusted = previous


class _Inert:
    """Placeholder for any object a tensors-only load refuses to build."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> '_Inert':
        return _Inert()


# What tensors, containers and numpy arrays need; nothing that runs code.
_TENSOR_GLOBALS = {
    ('collections', 'OrderedDict'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('torch', 'Size'),
    ('_codecs', 'encode'),
    ('numpy', 'dtype'),
    ('numpy', 'ndarray'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', 'scalar'),
}


class _TensorsOnlyPickle:
    """A ``pickle_module`` for ``torch.load`` that builds tensors, containers
    and numpy arrays, and turns every other global (MMEngine's message-hub
    buffers, ``getattr``, arbitrary classes) into an inert placeholder."""

    import pickle as _pickle
    load = _pickle.load
    loads = _pickle.loads

    class Unpickler(_pickle.Unpickler):

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _TENSOR_GLOBALS or (
                    module == 'torch' and name.endswith('Storage')):
                return super().find_class(module, name)
            return _Inert


def load_local_checkpoint(filename: str,
                          map_location: Any = None) -> dict:
    """Load a local checkpoint: tensors only unless loading is trusted.

    Untrusted loads first try ``weights_only=True``; a checkpoint holding
    other objects as well (for example one of our own training checkpoints
    given to ``load_from`` or ``tools/test.py``) is then read with an
    unpickler that builds tensors and replaces everything else with inert
    placeholders, so its ``state_dict`` is usable and no foreign code runs.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if not _weights_only_default():
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except Exception as err:  # UnpicklingError, RuntimeError by version
        if 'weights_only' not in str(err):
            raise
    return torch.load(filename, map_location=map_location,
                      weights_only=False, pickle_module=_TensorsOnlyPickle)


def safe_checkpoint_loading() -> None:
    """Route MMEngine's local checkpoint loading through our policy."""
    from mmengine.runner.checkpoint import CheckpointLoader
    current = CheckpointLoader._schemes.get('')
    if current is load_local_checkpoint:
        return
    CheckpointLoader.register_scheme('', load_local_checkpoint, force=True)


# --------------------------------------------------------------------------
# distributed initialisation


def init_cpu_distributed(launcher: str, backend: str = 'gloo') -> bool:
    """Initialise ``torch.distributed`` without CUDA, before the Runner.

    MMEngine's Runner skips its own ``init_dist`` when a process group
    exists, so this is enough for ``--launcher pytorch`` (torchrun) and
    ``--launcher slurm`` on CPU machines. Returns ``True`` when it
    initialised the group; ``False`` when CUDA is available (MMEngine's own
    initialisation, with nccl, is used) or the launcher is ``none``.
    """
    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if dist.is_initialized():
        return True
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    elif launcher not in ('pytorch', 'mpi'):
        raise ValueError(f'unknown launcher {launcher!r}; expected one of '
                         "'none', 'pytorch', 'slurm', 'mpi'")
    if launcher == 'mpi':
        os.environ.setdefault('RANK', os.environ['OMPI_COMM_WORLD_RANK'])
        os.environ.setdefault('WORLD_SIZE', os.environ['OMPI_COMM_WORLD_SIZE'])
        os.environ.setdefault('LOCAL_RANK',
                              os.environ['OMPI_COMM_WORLD_LOCAL_RANK'])
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))
    return True


def apply_all() -> None:
    """Apply every import-time workaround (idempotent)."""
    patch_mmcv_ext_loader()
    safe_checkpoint_loading()
