"""Every workaround for an upstream bug that mm_cyclegan needs, in one place.

Each entry names the upstream problem and has a test in
``tests/test_compat.py`` that fails without it. Version pins are preferred to
patches (numpy 1.26 is pinned rather than aliasing ``np.bool8``); what is
here could not be solved by a pin.

* :func:`patch_mmcv_ext_loader` -- mmcv-lite ships no compiled ops, yet
  ``import mmagic.models`` imports ``mmcv.ops`` through unrelated editors
  (BasicVSR++, EDVR, TDAN, StyleGAN2); open-mmlab/mmcv#2938 ("No module
  named 'mmcv._ext'" with mmcv-lite).
* :func:`init_cpu_distributed` -- MMEngine's ``init_dist`` always calls
  ``torch.cuda.set_device`` (open-mmlab/mmengine#1335), which fails on a
  machine without GPUs. We initialise a gloo process group ourselves there
  (for ``--launcher slurm`` with srun's ranks and the job's first node,
  :func:`slurm_first_node`, as MMEngine would).
* :func:`cpu_ddp_wrapper_cfg` -- MMEngine's Runner passes
  ``device_ids=[LOCAL_RANK]`` to the DDP wrappers, which DDP rejects for
  CPU modules; without CUDA they get ``device_ids=None``.
* :func:`disable_albumentations_update_check` -- albumentations 1.4.x asks
  PyPI for its newest version when imported (MMagic's transforms import
  it), a network call with a 2 s timeout and a warning on every start;
  upstream asks libraries to switch it off themselves
  (albumentations-team/albumentations#1775, #2206).

Importing :mod:`mm_cyclegan` applies :func:`patch_mmcv_ext_loader` (MMagic's
own import needs it) and :func:`disable_albumentations_update_check`. The
checkpoint-loading policy is not a workaround and lives in
:mod:`mm_cyclegan.engine.checkpoint`, used by our runner and tools; other
Runners in the process are left alone.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
from typing import Any, Optional

import torch


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
        # As MMEngine's slurm launcher: srun's values win (train.py has
        # already set LOCAL_RANK=0 from --local-rank), and every node
        # connects to the job's first node.
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = slurm_first_node()
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


def slurm_first_node() -> str:
    """Host name of the first node of this SLURM job, where rank 0 runs.

    Asks ``scontrol show hostnames $SLURM_NODELIST`` (as MMEngine's slurm
    launcher does); without scontrol a one-node job uses ``127.0.0.1``, and
    a job on several nodes raises :class:`RuntimeError` asking for
    ``MASTER_ADDR``.
    """
    nodes = os.environ.get('SLURM_NODELIST') or os.environ.get(
        'SLURM_JOB_NODELIST', '')
    try:
        names = subprocess.run(
            ['scontrol', 'show', 'hostnames', nodes], capture_output=True,
            text=True, check=True, timeout=60).stdout.split()
    except (OSError, subprocess.SubprocessError):
        names = []
    if names:
        return names[0]
    if os.environ.get('SLURM_NNODES', '1') == '1':
        return '127.0.0.1'
    raise RuntimeError(
        f'cannot find the first node of SLURM_NODELIST={nodes!r} '
        '(`scontrol show hostnames` failed); set MASTER_ADDR to its address')


def cpu_ddp_wrapper_cfg(model_wrapper_cfg: Optional[dict]
                        ) -> Optional[dict]:
    """``model_wrapper_cfg`` for a distributed run; on CPU a copy with
    ``device_ids=None`` (MMEngine would pass ``[LOCAL_RANK]``, which DDP
    rejects for CPU modules). Unchanged when CUDA is available or no
    wrapper is configured."""
    if model_wrapper_cfg is None or torch.cuda.is_available():
        return model_wrapper_cfg
    model_wrapper_cfg = dict(model_wrapper_cfg)
    model_wrapper_cfg['device_ids'] = None
    return model_wrapper_cfg


def disable_albumentations_update_check() -> bool:
    """Keep albumentations from asking PyPI for updates when imported.

    Sets ``NO_ALBUMENTATIONS_UPDATE=1`` unless the user set it; returns
    ``True`` when this call set it.
    """
    if 'NO_ALBUMENTATIONS_UPDATE' in os.environ:
        return False
    os.environ['NO_ALBUMENTATIONS_UPDATE'] = '1'
    return True


def apply_all() -> None:
    """Apply every import-time workaround (idempotent): what importing
    MMagic itself needs, and no network call at import."""
    patch_mmcv_ext_loader()
    disable_albumentations_update_check()
