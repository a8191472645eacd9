"""Convert junyanz or MMagic CycleGAN weights into a checkpoint of ours.

    python tools/convert_checkpoint.py checkpoints/horse2zebra/ \\
        --from junyanz --out h2z.pth
    python tools/convert_checkpoint.py horse2zebra.pth --from junyanz \\
        --out h2z.pth
    python tools/convert_checkpoint.py mmagic_h2z.pth --from mmagic \\
        --out h2z.pth [--domains horse zebra]

The output loads in tools/translate.py, tools/publish.py, tools/export.py
and as ``tools/train.py CONFIG --load-from OUT`` (fine-tuning). junyanz
files: stale instance-norm statistics are dropped; G_A maps A->B, D_A judges
domain B. MMagic files: its BGR channel order is turned into our RGB.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mm_cyclegan.apis.weights.ours import CONVERT_SOURCES  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Convert junyanz / MMagic CycleGAN weights.')
    parser.add_argument('src', help='junyanz generator file or training '
                        'folder (latest_net_G_A.pth ...), or an MMagic '
                        'CycleGAN checkpoint')
    parser.add_argument('--from', dest='source', choices=CONVERT_SOURCES,
                        required=True, help='what SRC is')
    parser.add_argument('--out', required=True, help='.pth file to write')
    parser.add_argument('--domains', nargs=2, metavar=('A', 'B'),
                        help='MMagic domain names in (A, B) order, when the '
                        "checkpoint's config does not say")
    parser.add_argument('--overwrite', action='store_true',
                        help='replace OUT if it exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.weights.architecture import describe
    from mm_cyclegan.apis.weights.ours import convert_checkpoint
    try:
        loaded = convert_checkpoint(args.src, args.out, args.source,
                                    args.domains, args.overwrite)
    except (ValueError, TypeError, FileNotFoundError,
            FileExistsError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    print(f'{loaded.kind} weights {args.src} -> {args.out}')
    print(f'domains: a={loaded.domains[0]!r}, b={loaded.domains[1]!r}')
    for name, (cfg, _) in loaded.networks.items():
        print(f'  {name}: {describe(cfg)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
