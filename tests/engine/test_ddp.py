"""DDP really synchronises: 2 gloo ranks == one process on the whole batch,
in float64 and in bf16 mixed precision; whole-generator gradient
checkpointing (``with_cp='all'``, replayed in the backward pass) changes
nothing under DDP."""
import copy
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
# bf16 autocast (fp32 weights). A batch of 2 rounds its summed weight
# gradients to bf16 once, two ranks round per image, and in this tiny
# instance-normalised net that bf16 noise is as large as the update itself.
# So the single process sees the same images one at a time and accumulates
# the two fp32 gradients (``accumulative_counts=2``), which is exactly what
# DDP's averaging computes.
BF16_OPTIM = {
    group: dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16',
                optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
    for group in ('generators', 'discriminators')}
STEPS, WORLD = 3, 2
# 'fp64_cp': fp64 with both generators checkpointed as a whole.
PRECISIONS = ('fp64', 'bf16', 'fp64_cp')
DTYPES = dict(fp64=torch.float64, bf16=torch.float32, fp64_cp=torch.float64)


def _sample(step, rank, precision='fp64'):
    gen = torch.Generator().manual_seed(1000 * step + rank)
    shape = (1, 3, 16, 16)
    dtype = DTYPES[precision]
    return dict(
        img_a=torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1,
        img_b=torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1)


def _build(precision='fp64'):
    from mmengine.registry import init_default_scope

    import mm_cyclegan  # noqa: F401
    from mm_cyclegan.registry import MODELS
    init_default_scope('mm_cyclegan')
    torch.manual_seed(0)
    cfg = copy.deepcopy(MODEL)
    if precision.endswith('_cp'):
        cfg['generator_a2b']['with_cp'] = 'all'
    model = MODELS.build(cfg)
    model.init_weights()
    return model.to(DTYPES[precision])


def _optim(model, precision='fp64'):
    from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
    cfg = BF16_OPTIM if precision == 'bf16' else OPTIM
    return CycleGANOptimWrapperConstructor(cfg)(model)


def _worker(rank, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=WORLD)
    from mmengine.model import MMSeparateDistributedDataParallel
    for precision in PRECISIONS:
        model = _build(precision)
        wrapped = MMSeparateDistributedDataParallel(model, device_ids=None)
        # Every network has its own DDP wrapper (what the model calls).
        assert all(type(getattr(model, name)).__name__ ==
                   'MMDistributedDataParallel'
                   for name in ('generator_a2b', 'generator_b2a',
                                'discriminator_a', 'discriminator_b'))
        optim = _optim(wrapped, precision)
        for step in range(STEPS):
            wrapped.train_step(_sample(step, rank, precision), optim)
        # Keys without the wrappers' '.module' level, to compare with 1
        # process.
        torch.save({k.replace('.module.', '.'): v.detach().clone()
                    for k, v in wrapped.module.state_dict().items()},
                   osp.join(out_dir, f'rank{rank}_{precision}.pth'))
    dist.destroy_process_group()


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    mp.spawn(_worker, args=(str(out / 'init'), str(out)), nprocs=WORLD,
             join=True)
    return {p: [torch.load(out / f'rank{r}_{p}.pth') for r in range(WORLD)]
            for p in PRECISIONS}


def _train_one_process(precision, ranks_used=WORLD):
    """One process on the images of the first ``ranks_used`` ranks: fp64
    as one joint batch, bf16 one image at a time, accumulating gradients.
    One intra-op thread, like the ranks."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_loop(precision, ranks_used)
    finally:
        torch.set_num_threads(threads)


def _train_loop(precision, ranks_used):
    model = _build(precision)
    if precision == 'fp64':
        optim = _optim(model, precision)
    else:
        from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
        optim = CycleGANOptimWrapperConstructor(
            {k: dict(v, accumulative_counts=ranks_used)
             for k, v in BF16_OPTIM.items()})(model)
    for step in range(STEPS):
        parts = [_sample(step, r, precision) for r in range(ranks_used)]
        if precision == 'fp64':
            parts = [{k: torch.cat([p[k] for p in parts]) for k in parts[0]}]
        for batch in parts:
            model.train_step(batch, optim)
    return model.state_dict()


@pytest.mark.parametrize('precision', PRECISIONS)
def test_parameters_identical_across_ranks(ranks, precision):
    first, second = ranks[precision]
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_ddp_equals_one_process_on_the_joint_batch(ranks):
    single = _train_one_process('fp64')
    initial = _build().state_dict()
    ranks = ranks['fp64']
    assert single.keys() == ranks[0].keys()
    moved = 0
    for key, value in single.items():
        diff = (value - ranks[0][key]).abs().max().item()
        assert diff <= 1e-6, (key, diff)
        moved += int(not torch.equal(value, initial[key]))
    assert moved > len(single) // 2  # training changed the weights


def test_bf16_ddp_equals_bf16_one_process_accumulating(ranks):
    single = _train_one_process('bf16')
    initial = _build('bf16').state_dict()
    ddp = ranks['bf16'][0]
    assert single.keys() == ddp.keys()
    moved = 0
    for key, value in single.items():
        assert ddp[key].dtype == value.dtype == initial[key].dtype, key
        diff = (value - ddp[key]).abs().max().item()
        assert diff <= 1e-6, (key, diff)
        moved += int(not torch.equal(value, initial[key]))
    assert moved > len(single) // 2  # training changed the weights


def test_checkpointed_generators_train_like_plain_ones_under_ddp(ranks):
    plain, checkpointed = ranks['fp64'][0], ranks['fp64_cp'][0]
    assert plain.keys() == checkpointed.keys()
    for key, value in plain.items():
        torch.testing.assert_close(checkpointed[key], value, rtol=0,
                                   atol=1e-12, msg=key)
