"""The built-in demo data is learnable in both directions (issue 6).

A tiny CycleGAN trains briefly on the unpaired procedural landscapes with a
fixed seed; on the paired test scenes both generators must beat the
identity baseline (the input scored against the ground truth) in PSNR and
colour distance, anime -> photo also in SSIM, while photo -> anime must
keep the input's structure (SSIM at most 0.1 below identity's; see
MARGINS). About 2.5 minutes on 2 CPU cores.

After changing the procedural styles, re-measure the margins below: run
``_train_and_score(seed)`` for seeds 0, 1 and 2 (e.g. from a Python shell
with ``tests/`` on ``sys.path``) and keep each margin near half of the
worst gain.
"""
import pytest
import torch
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader, default_collate

import mm_cyclegan  # noqa: F401
from mm_cyclegan.datasets import UnpairedEpochSampler
from mm_cyclegan.engine import (
    CycleGANOptimWrapperConstructor,
    make_image_pools,
)
from mm_cyclegan.registry import DATASETS, METRICS, MODELS

ITERS, SIZE = 3000, 32
# Gains over identity measured at 3000 iterations with initial-weight seeds
# 0, 1, 2 (this test uses 0), worst of the three, on an AVX2 CPU:
#   photo -> anime (a2b): PSNR +3.79 dB, SSIM +0.033, colour 21.4 dE
#   anime -> photo (b2a): PSNR +10.78 dB, SSIM +0.134, colour 29.2 dE
# On an AVX-512 CPU (other kernels, so other rounding, and a GAN amplifies
# rounding) seed 0 gave a2b SSIM +0.0004 with 2 threads and +0.053 with 1;
# seed 1 stayed between -0.097 and -0.012 from 1500 to 5000 iterations,
# while its a2b PSNR (+2.63 dB) and colour (19.3 dE) gains held. So a2b
# SSIM is no learnability signal for this tiny model: anime keeps the
# photo's structure, identity already scores 0.55. It only has to stay
# within 0.1 of identity (untrained generators lose 0.48). The other
# margins are about half the worst gain.
MARGINS = dict(
    a2b=dict(psnr=2.0, ssim=-0.1, color=10.0),
    b2a=dict(psnr=5.0, ssim=0.07, color=15.0),
)


def _train_and_score(seed: int = 0, precision: str = 'fp32') -> dict:
    """Train the tiny model (initial weights from ``seed``); paired scores.

    ``precision='bf16'`` trains with bf16 autocast
    (``MixedPrecisionOptimWrapper``); evaluation stays fp32.
    """
    init_default_scope('mm_cyclegan')
    torch.manual_seed(seed)
    model = MODELS.build(dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=3,
                           out_channels=3, base_channels=8, num_blocks=2,
                           upsample_mode='resize_conv'),
        discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                             base_channels=8, num_conv=2,
                             norm_cfg=dict(type='IN'))))
    model.init_weights()
    model.set_image_pools(make_image_pools(50, seed=0))
    adam = dict(optimizer=dict(type='Adam', lr=5e-4, betas=(0.5, 0.999)))
    if precision == 'bf16':
        adam.update(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
    optim = CycleGANOptimWrapperConstructor(
        dict(generators=adam, discriminators=adam))(model)
    train_set = DATASETS.build(dict(type='ProceduralLandscapeDataset',
                                    split='train', num_samples=300,
                                    size=SIZE, seed=0))
    sampler = UnpairedEpochSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=1, sampler=sampler,
                        collate_fn=default_collate)
    done, epoch = 0, 0
    while done < ITERS:
        sampler.set_epoch(epoch)
        for batch in loader:
            model.train_step(batch, optim)
            done += 1
            if done == ITERS:
                break
        epoch += 1
    test_set = DATASETS.build(dict(type='ProceduralLandscapeDataset',
                                   split='test', num_samples=32, size=SIZE))
    metric = METRICS.build(dict(type='PairedTranslationMetric'))
    for batch in DataLoader(test_set, batch_size=8,
                            collate_fn=default_collate):
        metric.process(batch, model.test_step(batch))
    return metric.compute_metrics(metric.results)


@pytest.fixture(scope='module')
def scores():
    return _train_and_score()


@pytest.fixture(scope='module')
def scores_bf16():
    return _train_and_score(precision='bf16')


def _gain(scores, direction, name):
    """Improvement over identity (colour distance: lower is better)."""
    model = scores[f'{direction}_{name}']
    identity = scores[f'{direction}_{name}_identity']
    return identity - model if name == 'color' else model - identity


@pytest.mark.slow  # 2.5 min of training: `make test-slow`
@pytest.mark.parametrize('name', ['psnr', 'ssim', 'color'])
@pytest.mark.parametrize('direction', ['a2b', 'b2a'])
def test_generator_beats_identity(scores, direction, name):
    gain = _gain(scores, direction, name)
    assert gain >= MARGINS[direction][name], (direction, name, gain, scores)


@pytest.mark.slow  # another 2.5 min (far more without native bf16)
@pytest.mark.parametrize('name', ['psnr', 'ssim', 'color'])
@pytest.mark.parametrize('direction', ['a2b', 'b2a'])
def test_bf16_generator_beats_identity(scores_bf16, direction, name):
    gain = _gain(scores_bf16, direction, name)
    assert gain >= MARGINS[direction][name], (direction, name, gain,
                                              scores_bf16)
