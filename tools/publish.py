"""Strip a checkpoint to its two generators: model.safetensors + model.json.

    python tools/publish.py work_dirs/cyclegan_demo/iter_2000.pth \\
        --out release/

The JSON (also stored in the safetensors header) records the generator
architectures, domain names and channels, the input normalisation, the
training iterations and the source checkpoint's sha256. tools/translate.py
and tools/export.py load the result (the folder, the .safetensors or the
.json).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Publish the generators of a checkpoint (safetensors).')
    parser.add_argument('checkpoint', help='training checkpoint (or any '
                        'weights tools/translate.py reads)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--config', help='config overriding the one stored '
                        'in the checkpoint')
    parser.add_argument('--direction', choices=('a2b', 'b2a'),
                        help='keep only this generator (default: both)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing model.safetensors/json')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.weights.published import publish
    try:
        tensors, meta = publish(
            args.checkpoint, args.out, args.config, args.overwrite,
            [args.direction] if args.direction else None)
    except (ValueError, TypeError, FileNotFoundError,
            FileExistsError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    size = osp.getsize(tensors) / 2**20
    source = osp.getsize(args.checkpoint) / 2**20 if osp.isfile(
        args.checkpoint) else None
    was = f' (from {source:.1f} MB)' if source else ''
    print(f'wrote {tensors} ({size:.1f} MB){was} and {meta}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
