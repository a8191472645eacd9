"""DDP really synchronises: 2 gloo ranks == one process on the whole batch."""
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

MODEL = dict(
    type='CycleGAN',
    generator_a2b=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=4, num_blocks=1),
    discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                         base_channels=4, num_conv=2,
                         norm_cfg=dict(type='IN')))
# The paper's optimiser. The networks run in float64 so that the only
# difference between "2 ranks x 1 image" and "1 process x 2 images" is the
# synchronisation under test, not float32 summation order (which Adam would
# amplify on the conv biases in front of instance norm, whose gradients are
# rounding noise).
OPTIM = dict(
    generators=dict(optimizer=dict(type='Adam', lr=2e-4,
                                   betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=2e-4,
                                       betas=(0.5, 0.999))))
STEPS, WORLD = 3, 2


def _sample(step, rank):
    gen = torch.Generator().manual_seed(1000 * step + rank)
    shape = (1, 3, 16, 16)
    return dict(
        img_a=torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1,
        img_b=torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1)


def _build():
    from mmengine.registry import init_default_scope

    import mm_cyclegan  # noqa: F401
    from mm_cyclegan.registry import MODELS
    init_default_scope('mm_cyclegan')
    torch.manual_seed(0)
    model = MODELS.build(MODEL)
    model.init_weights()
    return model.double()


def _optim(model):
    from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
    return CycleGANOptimWrapperConstructor(OPTIM)(model)


def _worker(rank, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=WORLD)
    from mmengine.model import MMSeparateDistributedDataParallel
    model = _build()
    wrapped = MMSeparateDistributedDataParallel(model, device_ids=None)
    # Every network has its own DDP wrapper (what the model calls).
    assert all(type(getattr(model, name)).__name__ ==
               'MMDistributedDataParallel'
               for name in ('generator_a2b', 'generator_b2a',
                            'discriminator_a', 'discriminator_b'))
    optim = _optim(wrapped)
    for step in range(STEPS):
        wrapped.train_step(_sample(step, rank), optim)
    # Keys without the wrappers' '.module' level, to compare with 1 process.
    torch.save({k.replace('.module.', '.'): v.detach().clone() for k, v in
                wrapped.module.state_dict().items()},
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    mp.spawn(_worker, args=(str(out / 'init'), str(out)), nprocs=WORLD,
             join=True)
    return [torch.load(out / f'rank{r}.pth') for r in range(WORLD)]


def test_parameters_identical_across_ranks(ranks):
    first, second = ranks
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_ddp_equals_one_process_on_the_joint_batch(ranks):
    model = _build()
    optim = _optim(model)
    for step in range(STEPS):
        parts = [_sample(step, r) for r in range(WORLD)]
        batch = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        model.train_step(batch, optim)
    single = model.state_dict()
    initial = _build().state_dict()
    assert single.keys() == ranks[0].keys()
    moved = 0
    for key, value in single.items():
        diff = (value - ranks[0][key]).abs().max().item()
        assert diff <= 1e-6, (key, diff)
        moved += int(not torch.equal(value, initial[key]))
    assert moved > len(single) // 2  # training changed the weights
