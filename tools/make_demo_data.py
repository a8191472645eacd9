"""Write procedural photo -> anime landscapes in the CycleGAN folder layout.

    python tools/make_demo_data.py                       # 1000 + 100 at 64 px
    python tools/make_demo_data.py --out data/p2a_128 --size 128 \\
        --num-train 2000 --num-test 200

Creates ``trainA`` (photos), ``trainB`` (anime), ``testA`` and ``testB``
under ``--out``. Train photos and train anime images come from disjoint
scene seeds (unpaired, as CycleGAN expects); ``testA/N.png`` and
``testB/N.png`` are the same scene ``N`` in the two styles, so test
results can be scored against ground truth. The seeds match
``ProceduralLandscapeDataset`` with the same offsets.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import sys

import cv2
from tqdm import tqdm

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mm_cyclegan.datasets.procedural import (  # noqa: E402
    check_disjoint_ranges,
    make_scene,
    rasterize,
    render_anime,
    render_photo,
    render_size,
)
from mm_cyclegan.utils.arg_types import int_type  # noqa: E402

SPLITS = ('trainA', 'trainB', 'testA', 'testB')


_positive = int_type(minimum=1)
_non_negative = int_type(minimum=0)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Render the procedural photo/anime demo data set.')
    parser.add_argument('--out', default='data/photo2anime_procedural',
                        help='output folder (default: %(default)s)')
    parser.add_argument('--num-train', type=_positive, default=1000,
                        help='images per training domain (%(default)s)')
    parser.add_argument('--num-test', type=_positive, default=100,
                        help='paired test scenes (%(default)s)')
    parser.add_argument('--size', type=_positive, default=64,
                        help='square image size in pixels (%(default)s)')
    parser.add_argument('--train-seed-offset-a', type=_non_negative,
                        default=0)
    parser.add_argument('--train-seed-offset-b', type=_non_negative,
                        default=1_000_000)
    parser.add_argument('--test-seed-offset', type=_non_negative,
                        default=2_000_000)
    parser.add_argument('--overwrite', action='store_true',
                        help='delete PNGs already in the four split '
                        'folders first (otherwise a non-empty split '
                        'folder is an error)')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> dict:
    """Map each split folder to ``(style, scene seeds)``."""
    train_a = range(args.train_seed_offset_a,
                    args.train_seed_offset_a + args.num_train)
    train_b = range(args.train_seed_offset_b,
                    args.train_seed_offset_b + args.num_train)
    test = range(args.test_seed_offset,
                 args.test_seed_offset + args.num_test)
    check_disjoint_ranges({
        'train-seed-offset-a': (train_a.start, len(train_a)),
        'train-seed-offset-b': (train_b.start, len(train_b)),
        'test-seed-offset': (test.start, len(test)),
    })
    return {'trainA': ('photo', train_a), 'trainB': ('anime', train_b),
            'testA': ('photo', test), 'testB': ('anime', test)}


def _prepare(out: str, overwrite: bool) -> None:
    for split in SPLITS:
        folder = osp.join(out, split)
        existing = sorted(os.listdir(folder)) if osp.isdir(folder) else []
        if existing and not overwrite:
            raise SystemExit(
                f'{folder} is not empty ({len(existing)} entries); pass '
                '--overwrite to replace its PNGs or choose another --out')
        for path in glob.glob(osp.join(folder, '*.png')):
            os.remove(path)
        os.makedirs(folder, exist_ok=True)


def main(argv=None) -> int:
    """Render every split and write a ``procedural.json`` manifest."""
    args = parse_args(argv)
    try:
        jobs = plan(args)
    except ValueError as err:
        raise SystemExit(f'error: {err}') from None
    _prepare(args.out, args.overwrite)
    total = sum(len(seeds) for _, seeds in jobs.values())
    renderers = {'photo': render_photo, 'anime': render_anime}
    size = args.size
    with tqdm(total=total, unit='img', disable=args.quiet,
              desc='rendering') as bar:
        for split, (style, seeds) in jobs.items():
            bar.set_postfix_str(split)
            for seed in seeds:
                scene = make_scene(seed)
                raster = rasterize(scene, render_size(size))
                image = renderers[style](scene, size, raster=raster)
                path = osp.join(args.out, split, f'{seed:08d}.png')
                # OpenCV writes BGR; the renderers return RGB.
                if not cv2.imwrite(path, image[..., ::-1]):
                    raise OSError(f'could not write {path}')
                bar.update(1)
    manifest = dict(
        generator='mm_cyclegan.datasets.procedural',
        size=size,
        num_train=args.num_train,
        num_test=args.num_test,
        train_seed_offset_a=args.train_seed_offset_a,
        train_seed_offset_b=args.train_seed_offset_b,
        test_seed_offset=args.test_seed_offset,
        domains=dict(A='photo', B='anime'))
    with open(osp.join(args.out, 'procedural.json'), 'w',
              encoding='utf-8') as f:
        json.dump(manifest, f, indent=2)
    print(f'wrote {total} images ({size}x{size}) to {args.out}: '
          + ', '.join(f'{split} {len(seeds)}'
                      for split, (_, seeds) in jobs.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
