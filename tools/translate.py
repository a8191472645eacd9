"""Translate images with trained weights: files/folders/globs in, folder out.

    python tools/translate.py work_dirs/cyclegan_demo/iter_2000.pth \\
        photos/ --out out/
    python tools/translate.py horse2zebra.pth 'data/*.jpg' --out out/ \\
        --max-side 1024
    python tools/translate.py model.safetensors in/ --out out/ \\
        --direction b2a --ext jpg --quality 90 --side-by-side --batch-size 4

WEIGHTS is any kind ``mm_cyclegan.apis.load_weights`` reads (our training
checkpoint with its config inside, a published model.safetensors, a junyanz
generator or training folder, an MMagic CycleGAN checkpoint). Outputs keep
relative paths and stems; existing outputs are skipped unless --overwrite.
Exit code: 0 all written or skipped, 1 some images failed (listed), 2 bad
arguments (nothing was written).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mm_cyclegan.engine.precision import PRECISION_NAMES  # noqa: E402
from mm_cyclegan.utils.arg_types import int_type  # noqa: E402

_positive = int_type(minimum=1)
_quality = int_type(minimum=1, maximum=100)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Translate images with a trained CycleGAN generator.')
    parser.add_argument('weights', help='checkpoint, published model, '
                        'junyanz or MMagic weights')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image files, folders or glob patterns')
    parser.add_argument('--out', required=True,
                        help='output folder (must not be an input folder)')
    parser.add_argument('--direction', default='a2b',
                        help="'a2b' (default), 'b2a' or '<name_a>2<name_b>'")
    parser.add_argument('--config', help='config overriding the one stored '
                        'in a training checkpoint')
    parser.add_argument('--domains', nargs=2, metavar=('A', 'B'),
                        help='domain names of an MMagic checkpoint (A, B)')
    parser.add_argument('--recursive', action=argparse.BooleanOptionalAction,
                        default=True, help='descend into sub-folders '
                        '(default: on)')
    parser.add_argument('--ext', choices=('png', 'jpg'), default='png',
                        help='output format (default: png; jpg has no '
                        'alpha and no 16 bit)')
    parser.add_argument('--quality', type=_quality, default=95,
                        help='JPEG quality (default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo outputs that exist already')
    parser.add_argument('--max-side', type=_positive, metavar='N',
                        help='downscale images whose longer side exceeds N '
                        '(aspect kept); default: full resolution')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write input | output pairs')
    parser.add_argument('--batch-size', type=_positive, default=1,
                        help='images of the same size translated together')
    parser.add_argument('--device', default='cpu',
                        help="'cpu' (default) or 'cuda[:N]'")
    parser.add_argument('--precision', choices=PRECISION_NAMES,
                        default='auto',
                        help='bf16 where the device has native bf16, else '
                        'fp32 (auto, default)')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.inference.translate_files import (
        collect_inputs,
        plan_jobs,
        short_architecture,
        translate_files,
    )
    from mm_cyclegan.apis.inference.translator import Translator
    try:
        files = collect_inputs(args.inputs, args.recursive)
        jobs = plan_jobs(args.inputs, files, args.out, args.ext,
                         args.recursive)
        translator = Translator.from_file(
            args.weights, direction=args.direction, device=args.device,
            precision=args.precision, config=args.config,
            domains=args.domains)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if translator.precision_message:
        print(translator.precision_message, file=sys.stderr)
    info = translator.info
    print(f'{info.kind} weights {info.source}: {translator.direction} '
          f'({short_architecture(info.architecture[translator.direction])}'
          '), '
          f'{translator.precision} on {translator.device}; '
          f'{len(jobs)} image(s) -> {args.out}', file=sys.stderr)
    summary = translate_files(
        translator, jobs, batch_size=args.batch_size,
        max_side=args.max_side, pair=args.side_by_side, ext=args.ext,
        quality=args.quality, overwrite=args.overwrite,
        progress=not args.no_progress)
    print(summary.text())
    return 1 if summary.failed else 0


if __name__ == '__main__':
    sys.exit(main())
