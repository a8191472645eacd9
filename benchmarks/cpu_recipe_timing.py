"""Seconds per training step of candidate CPU photo -> anime recipes.

How ``configs/cyclegan_resnet6-ngf32-lsgan_1xb1-3k_photo2anime-96px.py``
was sized: each candidate (crop size, generator width and blocks,
discriminator width) is built with the recipe's losses and optimisers and
stepped on real photo2anime images, all in one process, interleaved step by
step with the order rotating every round, so that load from other jobs hits
every candidate alike. Prints the median (after ``--warmup`` rounds), min
and max per candidate, the generator's parameter count and the load
average at each round (on a shared machine, trust rounds at low load).

    python benchmarks/cpu_recipe_timing.py --rounds 6
    python benchmarks/cpu_recipe_timing.py --only r6-ngf32-128 r6-ngf32-96
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

import torch  # noqa: E402
from mmengine.logging import MessageHub, MMLogger  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402

import mm_cyclegan  # noqa: E402,F401
from benchmarks.checkerboard import DEFAULT_DATA  # noqa: E402
from mm_cyclegan.datasets.unpaired_dataset import (  # noqa: E402
    UnpairedImageDataset,
)

#: name -> (crop px, generator channels, residual blocks, D channels)
CANDIDATES = {
    'r6-ngf32-128': (128, 32, 6, 64),
    'r6-ngf64-128': (128, 64, 6, 64),
    'r9-ngf32-128': (128, 32, 9, 64),
    'r6-ngf32-d32-128': (128, 32, 6, 32),
    'r6-ngf32-96': (96, 32, 6, 64),
    'r6-ngf32-160': (160, 32, 6, 64),
}


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=os.environ.get(
        'MM_CYCLEGAN_ANIME_DATA', DEFAULT_DATA))
    p.add_argument('--only', nargs='+', choices=sorted(CANDIDATES))
    p.add_argument('--rounds', type=int, default=6)
    p.add_argument('--warmup', type=int, default=1)
    return p.parse_args(argv)


def build(crop: int, ngf: int, blocks: int, ndf: int) -> tuple:
    """Model (the recipe's losses, resize-conv) and optimisers."""
    from mm_cyclegan.engine import (
        CycleGANOptimWrapperConstructor,
        make_image_pools,
    )
    from mm_cyclegan.registry import MODELS
    cfg = dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=3,
                           out_channels=3, base_channels=ngf,
                           num_blocks=blocks, norm_cfg=dict(type='IN'),
                           padding_mode='reflect',
                           upsample_mode='resize_conv'),
        discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                             base_channels=ndf, num_conv=3,
                             norm_cfg=dict(type='IN')),
        gan_loss=dict(type='GANLoss', gan_type='lsgan'),
        cycle_loss_a=dict(type='CycleConsistencyLoss', loss_weight=10.0),
        identity_weight=0.5)
    group = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        model = MODELS.build(cfg)
        model.set_image_pools(make_image_pools(50, 0.5, seed=0))
        optim = CycleGANOptimWrapperConstructor(
            dict(generators=dict(group), discriminators=dict(group)))(model)
    return model.train(), optim


def main(argv: Optional[list] = None) -> int:
    """Time the candidates; print one Markdown table."""
    args = parse_args(argv)
    MMLogger.get_current_instance().setLevel('WARNING')
    names = args.only or list(CANDIDATES)
    runs = []
    for name in names:
        crop, ngf, blocks, ndf = CANDIDATES[name]
        model, optim = build(crop, ngf, blocks, ndf)
        data = UnpairedImageDataset(args.data, load_size=crop + crop // 8,
                                    crop_size=crop)
        params = sum(p.numel() for p in model.generator_a2b.parameters())
        runs.append(dict(name=name, model=model, optim=optim, data=data,
                         params=params, times=[]))
    hub = MessageHub.get_current_instance()
    loads = []
    for r in range(args.rounds):
        hub.update_info('iter', r)
        shift = r % len(runs)
        for run in runs[shift:] + runs[:shift]:
            batch = default_collate([run['data'][r]])
            tic = time.perf_counter()
            with DefaultScope.overwrite_default_scope('mm_cyclegan'):
                run['model'].train_step(batch, run['optim'])
            run['times'].append(time.perf_counter() - tic)
        loads.append(os.getloadavg()[0])
        print(f'[timing] round {r + 1}/{args.rounds} load {loads[-1]:.1f}: '
              + ', '.join(f'{x["name"]} {x["times"][-1]:.2f}s'
                          for x in runs), file=sys.stderr, flush=True)
    print(f'\n{os.cpu_count()} CPUs, {torch.get_num_threads()} torch '
          f'threads, load average per round: '
          + ' '.join(f'{v:.1f}' for v in loads) + '\n')
    print('| candidate | G params | median s/iter | min | max |')
    print('|---|---|---|---|---|')
    for run in runs:
        kept = run['times'][args.warmup:] or run['times']
        print(f'| {run["name"]} | {run["params"] / 1e6:.2f} M | '
              f'{statistics.median(kept):.2f} | {min(kept):.2f} | '
              f'{max(kept):.2f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
