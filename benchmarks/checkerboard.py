"""Checkerboard artefacts: resize-conv vs transposed-conv (deconv) generators.

Two CycleGANs identical but for ``upsample_mode`` (same seed, same initial
weights where shapes match, same data stream) are trained for ``--iters``
steps on real photo -> anime data; the photo -> anime translations of the
test photos are scored at initialisation and after training.

Measure (``checkerboard_db``): a 2x upsampling layer that overlaps
unevenly paints a pattern of period 2 px (the last layer) and 4 px (the
one before), i.e. spectral peaks at the Nyquist frequencies (1/2 cycle per
pixel) and at 1/4. For each of those 8 frequency points the mean power of
the Hann-windowed grey image in the 3x3 bins around the point is divided
by the median power of the ring of bins 3 to 8 away; the score is the mean
of these ratios in dB. Natural images have a smooth spectrum there (about
0 dB); checkerboards stand out (several dB). The real anime frames of the
test set are scored as a reference.

    python benchmarks/checkerboard.py                  # ~15 min, 2 cores
    python benchmarks/checkerboard.py --iters 20 --images 4   # smoke
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import statistics
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402

import mm_cyclegan  # noqa: E402,F401
from mm_cyclegan.datasets.unpaired_dataset import (  # noqa: E402
    UnpairedImageDataset,
)

MODES = ('resize_conv', 'deconv')
DEFAULT_DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                        '..', 'shared', 'data', 'photo2anime')


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=os.environ.get(
        'MM_CYCLEGAN_ANIME_DATA', DEFAULT_DATA),
        help='a CycleGAN folder (trainA/B, testA/B); default '
        '../shared/data/photo2anime')
    p.add_argument('--iters', type=int, default=150)
    p.add_argument('--size', type=int, default=96,
                   help='training crop (test images are resized to it)')
    p.add_argument('--test-size', type=int, default=128)
    p.add_argument('--images', type=int, default=16,
                   help='test photos translated and scored')
    p.add_argument('--base-channels', type=int, default=32)
    p.add_argument('--num-blocks', type=int, default=6)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=None)
    return p.parse_args(argv)


def _peak_points(h: int, w: int) -> list:
    """The (row, col) bins of period 2 and 4 px, without the DC term."""
    rows = sorted({0, h // 4, h // 2})
    cols = sorted({0, w // 4, w // 2})
    return [(r, c) for r in rows for c in cols if (r, c) != (0, 0)]


def checkerboard_db(image: np.ndarray, inner: int = 1,
                    ring: tuple = (3, 8)) -> float:
    """Mean peak-to-neighbourhood power ratio (dB) at the 2 and 4 px
    periods of ``image`` (H x W or C x H x W, any range)."""
    gray = image.mean(axis=0) if image.ndim == 3 else image
    gray = gray.astype(np.float64) - gray.mean()
    h, w = gray.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(gray * window))**2
    ratios = []
    span = np.arange(-ring[1], ring[1] + 1)
    for r, c in _peak_points(h, w):
        dy, dx = np.meshgrid(span, span, indexing='ij')
        # On an axis (r or c = 0) the spectrum falls steeply across it:
        # compare with neighbours along the axis only, as far from it.
        dist = np.maximum(np.abs(dy) if r else 0 * dy,
                          np.abs(dx) if c else 0 * dx)
        near_axis = ((np.abs(dy) <= inner) if not r else True) & (
            (np.abs(dx) <= inner) if not c else True)
        values = power[(r + dy) % h, (c + dx) % w]
        peak = values[(dist <= inner) & near_axis].mean()
        around = np.median(values[(dist >= ring[0]) & (dist <= ring[1])
                                  & near_axis])
        ratios.append(10 * np.log10((peak + 1e-12) / (around + 1e-12)))
    return float(np.mean(ratios))


def build(mode: str, args) -> tuple:
    """A CycleGAN with ``upsample_mode=mode`` and its optimisers."""
    from mm_cyclegan.engine import (
        CycleGANOptimWrapperConstructor,
        make_image_pools,
    )
    from mm_cyclegan.registry import MODELS
    gen = dict(type='ResnetGenerator', in_channels=3, out_channels=3,
               base_channels=args.base_channels, num_blocks=args.num_blocks,
               norm_cfg=dict(type='IN'), padding_mode='reflect',
               upsample_mode=mode,
               init_cfg=dict(type='normal', gain=0.02))
    cfg = dict(type='CycleGAN', generator_a2b=gen,
               discriminator_b=dict(type='PatchDiscriminator',
                                    in_channels=3, base_channels=64,
                                    num_conv=3, norm_cfg=dict(type='IN'),
                                    init_cfg=dict(type='normal', gain=0.02)),
               gan_loss=dict(type='GANLoss', gan_type='lsgan'),
               cycle_loss_a=dict(type='CycleConsistencyLoss',
                                 loss_weight=10.0),
               identity_weight=0.5)
    group = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        torch.manual_seed(args.seed)
        model = MODELS.build(cfg)
        model.init_weights()
        model.set_image_pools(make_image_pools(50, 0.5, seed=args.seed))
        optim = CycleGANOptimWrapperConstructor(
            dict(generators=dict(group), discriminators=dict(group)))(model)
    return model, optim


@torch.no_grad()
def score(model, photos: list) -> float:
    """Median checkerboard dB of the photo -> anime translations."""
    generator = model.generator_a2b.eval()
    values = [checkerboard_db(generator(p[None])[0].numpy()) for p in photos]
    generator.train()
    return statistics.median(values)


def main(argv: Optional[list] = None) -> int:
    """Train both variants, print one Markdown table."""
    args = parse_args(argv)
    from mmengine.logging import MMLogger
    # Quiet: MMEngine logs every parameter's initialisation at INFO.
    MMLogger.get_current_instance().setLevel('WARNING')
    if args.threads:
        torch.set_num_threads(args.threads)
    train = UnpairedImageDataset(args.data, load_size=args.size * 9 // 8,
                                 crop_size=args.size, seed=args.seed)
    test = UnpairedImageDataset(args.data, split='test',
                                load_size=args.test_size,
                                crop_size=args.test_size)
    count = min(args.images, len(test.files_a), len(test.files_b))
    photos = [test[i]['img_a'] for i in range(count)]  # in [-1, 1]
    frames = [test[i]['img_b'].float().numpy() for i in range(count)]
    rows = [('real anime frames (testB)', '',
             statistics.median(checkerboard_db(f) for f in frames), '')]
    for mode in MODES:
        model, optim = build(mode, args)
        start = score(model, photos)
        tic = time.perf_counter()
        with DefaultScope.overwrite_default_scope('mm_cyclegan'):
            for step in range(args.iters):
                batch = default_collate([train[step]])
                model.train_step(batch, optim)
        seconds = time.perf_counter() - tic
        rows.append((mode, f'{start:.2f}', score(model, photos),
                     f'{seconds / max(args.iters, 1):.2f}'))
        print(f'[checkerboard] {mode}: {rows[-1]}', file=sys.stderr,
              flush=True)
    print(f'\nCheckerboard energy (dB above the neighbouring spectrum at '
          f'the 2/4 px periods; median of {count} test images at '
          f'{args.test_size} px; ResNet-{args.num_blocks} base '
          f'{args.base_channels}, {args.iters} iterations at {args.size} px,'
          f' seed {args.seed}; load {os.getloadavg()[0]:.1f}):\n')
    print('| generator | at init | after training | s/iter |')
    print('|---|---|---|---|')
    for name, init, trained, speed in rows:
        print(f'| {name} | {init} | {trained:.2f} | {speed} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
