"""Command line of ``tools/download_dataset.py`` (:mod:`.download`)."""
from __future__ import annotations

import argparse
import re
import sys
from typing import Optional, Sequence

from . import anime_layout
from .download import DEFAULT_LIMITS, KNOWN_DATASETS, download_dataset
from .zip_extract import DownloadError

__all__ = ['main', 'parse_args', 'parse_size']

_SIZE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$', re.I)


def parse_size(text: str) -> int:
    """``'6G'``, ``'256M'``, ``'1.5GiB'``, ``'4096'`` -> bytes (powers of
    1024); ValueError naming the text otherwise."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f'not a size: {text!r} (e.g. 4096, 256M, 6G)')
    power = ' KMGT'.index((match.group(2) or ' ').upper())
    return int(float(match.group(1)) * 1024**power)


def _size_arg(text: str) -> Optional[int]:
    if text.strip().lower() in ('none', '0'):
        return None
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _ratio_arg(text: str) -> Optional[float]:
    if text.strip().lower() in ('none', '0'):
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f'not a positive ratio: {text!r}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments of ``tools/download_dataset.py``."""
    limits = DEFAULT_LIMITS
    parser = argparse.ArgumentParser(
        description='Download a CycleGAN dataset into <root>/<name>/ '
        '(trainA, trainB, testA, testB).',
        epilog=f'{anime_layout.NAME}: the AnimeGAN training set '
        f'({anime_layout.URL}); trainA = its train photos, trainB = the '
        'chosen style\'s frames, testA = its test photos, testB = every '
        f'{anime_layout.TEST_B_EVERY}th style frame (sorted names), kept '
        'out of trainB. Its size and sha256 are not published, so they '
        'cannot be checked from here: the sha256 of what arrived is '
        'printed; pass it with --sha256 next time to pin the file. '
        'Licence: non-commercial research only (printed, and written to '
        'LICENSE.txt next to the data).')
    parser.add_argument(
        'name', help=f'dataset name: {", ".join(KNOWN_DATASETS)} (any '
        'folder name with --url)')
    parser.add_argument('--root', default='data',
                        help='folder receiving <name>/ (default: data)')
    parser.add_argument('--url', help='download this zip instead of the '
                        'official archive')
    parser.add_argument('--sha256', help='expected sha256 of the archive')
    parser.add_argument('--style', choices=sorted(anime_layout.STYLES),
                        help=f'{anime_layout.NAME} only: whose frames form '
                        'domain B (default: hayao)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing <root>/<name>')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument(
        '--max-total-size', type=_size_arg,
        default=limits.max_total_bytes, metavar='SIZE',
        help='refuse archives that unpack to more than this (default 6G; '
        'K/M/G suffixes; none = no cap)')
    parser.add_argument(
        '--max-member-size', type=_size_arg,
        default=limits.max_member_bytes, metavar='SIZE',
        help='refuse archives with a file larger than this (default 256M)')
    parser.add_argument(
        '--max-ratio', type=_ratio_arg, default=limits.max_ratio,
        help='refuse archives (or members of 1 MiB or more) that unpack '
        f'more than this many times their packed size (default '
        f'{limits.max_ratio:g})')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    args = parse_args(argv)
    limits = DEFAULT_LIMITS._replace(max_total_bytes=args.max_total_size,
                                     max_member_bytes=args.max_member_size,
                                     max_ratio=args.max_ratio)
    if args.name == anime_layout.NAME:
        print(anime_layout.NOTICE)
        if args.sha256 is None:
            print('note: the size and sha256 of this archive are not '
                  'published and cannot be checked from here; pass '
                  '--sha256 HEX to pin a known file.')
    try:
        folder = download_dataset(args.name, args.root, args.url,
                                  args.sha256, args.force,
                                  progress=not args.no_progress,
                                  style=args.style, limits=limits)
    except (ValueError, FileExistsError, DownloadError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{args.name} is ready in {folder}')
    return 0
