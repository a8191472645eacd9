"""FID and KID between two folders of images.

    python tools/fid.py results/a2b data/horse2zebra/testB
    python tools/fid.py DIR_A DIR_B --inception PATH --batch-size 50 --json

The maths and Inception network of the training metric (TranslationMetric):
the FID equals pytorch-fid's (``python -m pytorch_fid DIR_A DIR_B``) on the
same images and weights file. The weights file
(pt_inception-2015-12-05-6726825d.pth) is never downloaded: --inception,
then $MM_CYCLEGAN_INCEPTION, then the torch hub cache.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mm_cyclegan  # noqa: E402,F401  (applies compat workarounds)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('folder_a', help='first image folder (e.g. the '
                        'translated images)')
    parser.add_argument('folder_b', help='second image folder (e.g. the '
                        'real target-domain images)')
    parser.add_argument('--inception', metavar='PATH', default=None,
                        help='Inception weights file (default: '
                        '$MM_CYCLEGAN_INCEPTION, then the torch hub cache)')
    parser.add_argument('--batch-size', type=int, default=50,
                        help='images per Inception pass (default 50, as '
                        'pytorch-fid)')
    parser.add_argument('--device', default='cpu',
                        help='torch device of the network (cpu, cuda, ...)')
    parser.add_argument('--load-size', type=int, default=None,
                        help='resize images to this square size first, '
                        'like the test dataset (default: as they are)')
    parser.add_argument('--resize', default='bilinear',
                        choices=['bilinear', 'clean'],
                        help="resize to 299: 'bilinear' (pytorch-fid, "
                        "published tables) or 'clean' (clean-fid's)")
    parser.add_argument('--kid-subsets', type=int, default=100)
    parser.add_argument('--kid-subset-size', type=int, default=1000)
    parser.add_argument('--json', action='store_true',
                        help='print the result as one JSON object')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    from mm_cyclegan.evaluation import InceptionWeightsMissing
    from mm_cyclegan.evaluation.folder_metrics import (
        folder_fid_kid,
        format_folder_result,
    )
    try:
        result = folder_fid_kid(
            args.folder_a, args.folder_b, args.inception,
            batch_size=args.batch_size, device=args.device,
            resize=args.resize, load_size=args.load_size,
            kid_subsets=args.kid_subsets,
            kid_subset_size=args.kid_subset_size,
            progress=not args.no_progress)
    except InceptionWeightsMissing as error:
        print(error, file=sys.stderr)
        return 2
    except (ValueError, TypeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(format_folder_result(result, args.folder_a, args.folder_b))
    return 0


if __name__ == '__main__':
    sys.exit(main())
