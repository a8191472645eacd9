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

* :func:`filter_upstream_warnings` -- importing ``mmagic.models`` (MMagic's
  registry does, to build any of its models) imports diffusers and
  transformers, which print five deprecation warnings about their own
  code (old diffusers import paths MMagic 1.2.0 uses; ``torch.jit.script``
  in transformers' VITS). Narrow filters: message, category and module.
* :func:`load_mmagic_fid_inception` -- the FID Inception blocks live in
  ``mmagic.evaluation.functional.fid_inception`` (torch only), but importing
  it runs ``mmagic.evaluation``'s ``__init__``, which imports
  ``mmagic.models``: ~10 s and the warnings above. The file is loaded on
  its own instead.
* :func:`without_unused_file_client` -- MMEngine's ``CheckpointHook`` and
  ``save_checkpoint`` build a ``FileClient`` they do not use when no
  ``file_client_args`` are given (their own comments say so), which logs
  '"FileClient" will be deprecated' and '"HardDiskBackend" is the alias of
  "LocalBackend"'. Our checkpoint hook and runner skip building it.
* :func:`ddp_buffer_sync_cfg` -- torch 2.13 deprecates DDP's
  ``broadcast_buffers`` (a warning per wrapped network), which MMEngine's
  DDP wrappers always pass; it becomes ``forward_sync_buffers``.

Upstream internals we read, each in one accessor here (the only reads of
another package's private names; ``tests/test_no_private_reads.py``
allows exactly these): :func:`logger_instance_names`,
:func:`runner_is_resuming`, :func:`runner_val_loop`,
:func:`runner_randomness_cfg`.

Importing :mod:`mm_cyclegan` applies :func:`patch_mmcv_ext_loader` (MMagic's
own import needs it), :func:`disable_albumentations_update_check` and
:func:`filter_upstream_warnings`. The
checkpoint-loading policy is not a workaround and lives in
:mod:`mm_cyclegan.engine.checkpoint`, used by our runner and tools; other
Runners in the process are left alone.
"""
from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import os.path as osp
import subprocess
import sys
import warnings
from types import ModuleType
from typing import Any, Iterator, Optional

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


#: (message regex, module regex, why) of the deprecation warnings
#: (``FutureWarning``) that importing ``mmagic.models`` prints about
#: upstream code; nothing in mm_cyclegan or a user's config can act on them.
UPSTREAM_WARNINGS = (
    (r'`(Transformer2DModelOutput|DualTransformer2DModel|'
     r'UNet2DConditionOutput|UNet2DConditionModel)` is deprecated',
     r'diffusers\.models\.',
     'MMagic 1.2.0 imports these from their pre-0.26 diffusers paths'),
    (r'`torch\.jit\.script` is deprecated',
     r'torch\.jit\._script',
     "transformers' VITS model (imported by diffusers' AudioLDM2 pipeline, "
     'which mmagic.models imports) scripts a function at import; '
     'mm_cyclegan never calls torch.jit.script'),
)


def filter_upstream_warnings() -> None:
    """Ignore :data:`UPSTREAM_WARNINGS` (idempotent: ``filterwarnings``
    does not add a filter twice)."""
    for message, module, _why in UPSTREAM_WARNINGS:
        warnings.filterwarnings('ignore', message=message,
                                category=FutureWarning, module=module)


_FID_INCEPTION = 'mmagic.evaluation.functional.fid_inception'


def load_mmagic_fid_inception() -> ModuleType:
    """MMagic's ``fid_inception`` module, without importing its package.

    The module needs only torch and torchvision; its package's
    ``__init__`` imports ``mmagic.models`` (diffusers, transformers: ~10 s
    and deprecation warnings). When it was imported normally already, that
    module is returned.
    """
    if _FID_INCEPTION in sys.modules:
        return sys.modules[_FID_INCEPTION]
    name = 'mm_cyclegan._mmagic_fid_inception'
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec('mmagic')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('mmagic is not installed (needed for the FID '
                          'Inception network)')
    path = osp.join(list(spec.submodule_search_locations)[0], 'evaluation',
                    'functional', 'fid_inception.py')
    file_spec = importlib.util.spec_from_file_location(name, path)
    if file_spec is None or file_spec.loader is None:
        raise ImportError(f'cannot load {path}')
    module = importlib.util.module_from_spec(file_spec)
    sys.modules[name] = module
    try:
        file_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class _NoFileClient:
    """Stands in for ``FileClient`` where MMEngine builds one it never
    uses; ``infer_client`` gives ``None``."""

    @staticmethod
    def infer_client(*args: Any, **kwargs: Any) -> None:
        return None


@contextlib.contextmanager
def without_unused_file_client(module: ModuleType) -> Iterator[None]:
    """Within the block, ``module.FileClient`` is :class:`_NoFileClient`.

    Only for code paths whose ``file_client_args`` is ``None``: there
    MMEngine 0.10 calls ``FileClient.infer_client`` and then ignores the
    result (files go through ``get_file_backend``), and building it logs
    two deprecation warnings.
    """
    original = module.FileClient
    module.FileClient = _NoFileClient  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module.FileClient = original  # type: ignore[attr-defined]


def ddp_buffer_sync_cfg(model_wrapper_cfg: Optional[dict]
                        ) -> Optional[dict]:
    """``model_wrapper_cfg`` with ``broadcast_buffers`` given to DDP as
    ``forward_sync_buffers`` when this torch has it (2.13+), so DDP does
    not warn that ``broadcast_buffers`` is deprecated.

    The one difference: with ``forward_sync_buffers=False`` DDP still
    copies rank 0's buffers to the other ranks once at start-up. The
    recipes' networks (instance norm without running statistics) have no
    buffers, and other models start with equal buffers on every rank (same
    seed), so the copy changes nothing. Unchanged when the config sets
    ``forward_sync_buffers`` itself or this torch lacks it.
    """
    if model_wrapper_cfg is None or 'broadcast_buffers' not in \
            model_wrapper_cfg or 'forward_sync_buffers' in model_wrapper_cfg:
        return model_wrapper_cfg
    from torch.nn.parallel import DistributedDataParallel
    accepted = inspect.signature(DistributedDataParallel.__init__).parameters
    if 'forward_sync_buffers' not in accepted:
        return model_wrapper_cfg
    model_wrapper_cfg = dict(model_wrapper_cfg)
    sync = model_wrapper_cfg['broadcast_buffers']
    # None: MMEngine's wrappers pass it on, and DDP warns only when it is
    # not None.
    model_wrapper_cfg['broadcast_buffers'] = None
    model_wrapper_cfg['forward_sync_buffers'] = bool(sync)
    return model_wrapper_cfg


# --------------------------------------------------------------------------
# upstream internals we read (MMEngine 0.10.x has no public accessor)


def logger_instance_names() -> set[str]:
    """The names of every ``MMLogger`` built in this process (MMEngine's
    ``ManagerMixin`` keeps them in ``_instance_dict``)."""
    from mmengine.logging import MMLogger
    return set(MMLogger._instance_dict)


def runner_is_resuming(runner: Any) -> bool:
    """Whether an MMEngine runner was configured to resume (``resume=True``;
    MMEngine keeps it as ``_resume`` only)."""
    return bool(getattr(runner, '_resume', False))


def runner_val_loop(runner: Any) -> Any:
    """The runner's validation loop, or its config, without building it
    (the public ``val_loop`` property builds it)."""
    return getattr(runner, '_val_loop', None)


def runner_randomness_cfg(runner: Any) -> dict:
    """The runner's ``randomness`` config (MMEngine keeps it as
    ``_randomness_cfg``; a loop needs ``diff_rank_seed`` to build its
    dataloader as the runner would)."""
    return dict(getattr(runner, '_randomness_cfg', None) or {})


def apply_all() -> None:
    """Apply every import-time workaround (idempotent): what importing
    MMagic itself needs, no network call at import, and no upstream
    deprecation warnings (:func:`filter_upstream_warnings`)."""
    patch_mmcv_ext_loader()
    disable_albumentations_update_check()
    filter_upstream_warnings()
