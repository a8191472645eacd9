"""The README's photo -> anime figure: input | translation, one photo a row.

    python benchmarks/readme_figure.py WEIGHTS data/photo2anime/testA \\
        --out docs/images/photo2anime.jpg

Takes the photos whose names match ``--pattern`` (sorted), ``--rows`` of
them evenly spaced from first to last (not picked by eye), resizes each
(centre square crop) to ``--size`` px, translates it with the weights'
A -> B generator at that size, and writes one JPEG.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import os.path as osp
import sys
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from mm_cyclegan.apis import Translator  # noqa: E402

GAP = 4


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('weights')
    p.add_argument('inputs', help='folder of input photos')
    p.add_argument('--pattern', default='animegan_real_*',
                   help='file names to take (shell pattern)')
    p.add_argument('--rows', type=int, default=6)
    p.add_argument('--size', type=int, default=192,
                   help='tile size in px (at most 256)')
    p.add_argument('--direction', default='a2b')
    p.add_argument('--out', default=osp.join(REPO, 'docs', 'images',
                                             'photo2anime.jpg'))
    args = p.parse_args(argv)
    if not 1 <= args.rows <= 6:
        p.error(f'--rows must be in 1..6, got {args.rows}')
    if not 16 <= args.size <= 256:
        p.error(f'--size must be in 16..256, got {args.size}')
    return args


def pick(folder: str, pattern: str, rows: int) -> list[str]:
    """``rows`` matching files, evenly spaced over the sorted matches."""
    names = sorted(n for n in os.listdir(folder)
                   if fnmatch.fnmatch(n, pattern))
    if len(names) < rows:
        raise SystemExit(f'{folder}: {len(names)} files match '
                         f'{pattern!r}, {rows} needed')
    index = np.linspace(0, len(names) - 1, rows).round().astype(int)
    return [osp.join(folder, names[i]) for i in index]


def square(path: str, size: int) -> np.ndarray:
    """Centre square crop of an image, resized to ``size``, RGB uint8."""
    with Image.open(path) as image:
        image = image.convert('RGB')
        side = min(image.size)
        left = (image.width - side) // 2
        top = (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        return np.asarray(image.resize((size, size), Image.LANCZOS))


def main(argv: Optional[list] = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    translator = Translator.from_file(args.weights, args.direction,
                                      precision='fp32')
    size = args.size
    canvas = np.full((args.rows * size + (args.rows - 1) * GAP,
                      2 * size + GAP, 3), 255, dtype=np.uint8)
    for row, path in enumerate(pick(args.inputs, args.pattern, args.rows)):
        photo = square(path, size)
        top = row * (size + GAP)
        canvas[top:top + size, :size] = photo
        canvas[top:top + size, size + GAP:] = translator(photo)
        print(f'{osp.basename(path)} -> row {row + 1}', file=sys.stderr)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    Image.fromarray(canvas).save(args.out, quality=90)
    print(args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
