"""Precompute the Inception features/statistics of real test images.

    python tools/fid_stats.py data/horse2zebra/testA data/horse2zebra/testB \
        --cache-dir work_dirs/fid_stats [--load-size 256] [--resize clean]

Writes one ``<folder>-<key>.npz`` per folder (features, FID mean and
covariance), keyed by the file list, the resize settings and the weights
file's hash; an up-to-date file is not recomputed. Point the metric at the
folder (``TranslationMetric(stats_cache_dir=...)``) and evaluations skip
the network for those real images. ``--load-size`` must match the test
dataset's resize (the recipes use 256; images already 256 px are not
resampled).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mm_cyclegan  # noqa: E402,F401  (applies compat workarounds)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folders', nargs='+', help='image folders')
    parser.add_argument('--cache-dir', required=True)
    parser.add_argument('--load-size', type=int, default=None,
                        help='resize to this square size first, like the '
                        'test dataset')
    parser.add_argument('--resize', default='bilinear',
                        choices=['bilinear', 'clean'])
    parser.add_argument('--input-size', type=int, default=299)
    parser.add_argument('--weights', default=None,
                        help='Inception weights file (default: '
                        '$MM_CYCLEGAN_INCEPTION, then the torch hub cache)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    from mm_cyclegan.evaluation import InceptionWeightsMissing
    from mm_cyclegan.evaluation.inception import InceptionFeatureExtractor
    from mm_cyclegan.evaluation.real_stats import cache_folder_features
    print('Loading the Inception network...', flush=True)
    try:
        extractor = InceptionFeatureExtractor(
            args.weights, args.resize, args.input_size, device=args.device)
    except InceptionWeightsMissing as error:
        print(error, file=sys.stderr)
        return 2
    for folder in args.folders:
        path, computed = cache_folder_features(
            folder, args.cache_dir, extractor, args.load_size,
            progress=not args.no_progress)
        print(f'{folder}: {"written" if computed else "up to date"} {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
