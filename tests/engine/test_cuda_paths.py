"""The CUDA-only branches, reached on a CPU machine with the device faked
where torch allows it: what a GPU run would build, built and checked here.

Branch (where) -> what keeps a CPU run off it:
* nccl (configs/_base_/default_runtime.py) -> apis.training._cpu_backend
* torch.cuda.set_device in MMEngine's init_dist -> compat.init_cpu_distributed
* DDP device_ids=[LOCAL_RANK] -> compat.cpu_ddp_wrapper_cfg
* fp16 autocast + GradScaler('cuda') -> engine.optim_wrapper.resolve_dtype
* CUDA RNG states -> engine.hooks.RNGStateHook (torch.cuda.is_available)
* SyncBN -> MMEngine's Runner reverts it to BN without DDP
* 'cuda' device strings -> apis.inference.translator._resolve_device
* pin_memory -> no recipe sets it; torch ignores it without a GPU
"""
import os
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from mm_cyclegan import compat
from tests.helpers import REPO

FAKE_SLURM = osp.join(REPO, 'tests', 'fake_slurm')


@pytest.fixture
def gpu(monkeypatch):
    """Pretend CUDA is there (nothing in these tests touches a device)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)


@pytest.mark.parametrize('cuda', [True, False])
def test_nccl_stays_on_gpus_and_becomes_gloo_on_cpus(monkeypatch, cuda):
    from mm_cyclegan.apis.training import _cpu_backend
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_',
                                   'default_runtime.py'))
    _cpu_backend(cfg)
    assert cfg.env_cfg.dist_cfg.backend == ('nccl' if cuda else 'gloo')


def test_with_cuda_mmengine_initialises_slurm_with_set_device(
        monkeypatch, tmp_path, gpu):
    """Ours steps aside; MMEngine's slurm launcher (set_device, nccl,
    scontrol) runs on what the fake srun sets."""
    import mmengine.dist.utils as dist_utils
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.setenv(key, '')  # restored (removed) afterwards
        monkeypatch.delenv(key)
    slurm = dict(SLURM_PROCID='3', SLURM_NTASKS='4', SLURM_LOCALID='1',
                 SLURM_NNODES='2', SLURM_NODELIST='127.0.0.[2-3]',
                 LOCAL_RANK='0',
                 PATH=FAKE_SLURM + os.pathsep + os.environ['PATH'])
    for key, value in slurm.items():
        monkeypatch.setenv(key, value)
    assert not compat.init_cpu_distributed('slurm')
    assert 'RANK' not in os.environ  # untouched: MMEngine's job
    devices, groups = [], []
    monkeypatch.setattr(torch.cuda, 'set_device', devices.append)
    monkeypatch.setattr(dist_utils.torch_dist, 'init_process_group',
                        lambda **kwargs: groups.append(kwargs))
    monkeypatch.setattr(dist_utils.mp, 'get_start_method',
                        lambda allow_none=False: 'fork')
    dist_utils.init_dist('slurm', backend='nccl')
    assert devices == [1] and groups == [dict(backend='nccl')]
    assert (os.environ['RANK'], os.environ['LOCAL_RANK'],
            os.environ['MASTER_ADDR']) == ('3', '1', '127.0.0.2')


def test_with_cuda_ddp_keeps_mmengine_device_ids(gpu):
    cfg = dict(type='MMSeparateDistributedDataParallel')
    assert compat.cpu_ddp_wrapper_cfg(cfg) is cfg
    assert not compat.init_cpu_distributed('pytorch')


def test_gpu_without_bf16_trains_fp16_with_a_cuda_grad_scaler(
        monkeypatch):
    from mm_cyclegan.engine import MixedPrecisionOptimWrapper
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                        lambda including_emulation=True: False)
    params = [torch.nn.Parameter(torch.zeros(2))]
    with warnings.catch_warnings():
        # GradScaler('cuda') disables itself (with a warning) without CUDA.
        warnings.simplefilter('ignore')
        wrapper = MixedPrecisionOptimWrapper(torch.optim.Adam(params),
                                             device_type='cuda')
    assert wrapper.cast_dtype == torch.float16
    assert wrapper.loss_scaler is not None
    assert wrapper.loss_scaler._device == 'cuda'
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                        lambda including_emulation=True: True)
    wrapper = MixedPrecisionOptimWrapper(torch.optim.Adam(params),
                                         device_type='cuda')
    assert (wrapper.cast_dtype, wrapper.loss_scaler) == (torch.bfloat16,
                                                         None)


def test_cuda_rng_states_are_saved_and_restored(monkeypatch, gpu):
    from mm_cyclegan.engine.hooks import RNGStateHook
    states = [torch.tensor([1, 2], dtype=torch.uint8)]
    restored = []
    monkeypatch.setattr(torch.cuda, 'get_rng_state_all', lambda: states)
    monkeypatch.setattr(torch.cuda, 'set_rng_state_all', restored.append)
    hook = RNGStateHook()
    state = hook.collect(runner=None)
    assert state['cuda'] is states
    hook.restore(None, state)
    assert len(restored) == 1 and torch.equal(restored[0][0], states[0])


def test_syncbn_builds_and_is_reverted_without_ddp():
    from mmengine.model import revert_sync_batchnorm

    from mm_cyclegan.registry import MODELS
    generator = MODELS.build(dict(
        type='mm_cyclegan.ResnetGenerator', in_channels=3, out_channels=3,
        base_channels=4, num_blocks=1, norm_cfg=dict(type='SyncBN')))
    # What a GPU DDP run trains (MMEngine's subclass of torch's).
    assert any(isinstance(m, torch.nn.SyncBatchNorm)
               for m in generator.modules())
    reverted = revert_sync_batchnorm(generator)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in reverted.modules())
    out = reverted(torch.zeros(2, 3, 16, 16))
    assert out.shape == (2, 3, 16, 16)


def test_cuda_device_strings(monkeypatch):
    from mm_cyclegan.apis.inference.translator import _resolve_device
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        _resolve_device('cuda:1')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert _resolve_device('cuda:1') == torch.device('cuda', 1)


def test_pin_memory_is_ignored_on_cpu():
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import mm_cyclegan  # noqa: F401
    init_default_scope('mm_cyclegan')
    loader = Runner.build_dataloader(dict(
        batch_size=2, num_workers=0, pin_memory=True,
        sampler=dict(type='UnpairedEpochSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='ProceduralLandscapeDataset', split='train',
                     num_samples=2, size=16, seed=0)), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "no accelerator is found"
        batch = next(iter(loader))
    assert batch['img_a'].shape == (2, 3, 16, 16)
