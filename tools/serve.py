"""Serve a page to try a model: drop a photo, see it translated.

    python tools/serve.py WEIGHTS                    # http://127.0.0.1:7860
    python tools/serve.py WEIGHTS --port 8000 --max-pixels 2000000

WEIGHTS is anything tools/translate.py accepts (a training checkpoint, a
slim file from tools/publish.py, converted published weights). Needs the
optional web stack: pip install -e '.[serve]'. The server binds 127.0.0.1
(this machine only) unless --host says otherwise; on a network address it
warns, and answers only requests addressed to localhost, that address or a
name given with --allow-host (e.g. --host 0.0.0.0 --allow-host box.lan).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mm_cyclegan.apis.deploy.serve.uploads import (  # noqa: E402
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Serve a local web page that translates photos with '
        'a trained CycleGAN')
    parser.add_argument('weights', help='checkpoint or published weights')
    parser.add_argument(
        '--host', default='127.0.0.1',
        help='address to bind (default 127.0.0.1: this machine only; '
        '0.0.0.0 exposes the page to the network)')
    parser.add_argument(
        '--allow-host', nargs='+', default=None, metavar='HOST',
        help='Host header names to answer besides localhost and the bound '
        'address, e.g. the name clients use with --host 0.0.0.0 (DNS '
        "rebinding protection; '*' answers any)")
    parser.add_argument('--port', type=int, default=7860,
                        help='port (default 7860; 0 picks a free one)')
    parser.add_argument('--device', default='cpu',
                        help='torch device for the generators (cpu, cuda)')
    parser.add_argument(
        '--max-bytes', type=int, default=DEFAULT_MAX_BYTES,
        help=f'largest upload in bytes (default {DEFAULT_MAX_BYTES})')
    parser.add_argument(
        '--max-pixels', type=int, default=DEFAULT_MAX_PIXELS,
        help='largest image in pixels, checked from the file header '
        f'before decoding (default {DEFAULT_MAX_PIXELS})')
    parser.add_argument(
        '--tmp-dir', default=None,
        help='where the server keeps uploads while decoding them (its '
        'own folder inside this one, removed at exit; default: the '
        "system's temporary directory)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.deploy.serve import (
        MissingServeExtra,
        require_web_stack,
    )
    try:
        require_web_stack()
    except MissingServeExtra as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    from mm_cyclegan.apis.deploy.serve.server import serve
    return serve(args.weights, host=args.host, port=args.port,
                 device=args.device, max_bytes=args.max_bytes,
                 max_pixels=args.max_pixels, tmp_dir=args.tmp_dir,
                 allow_hosts=args.allow_host)


if __name__ == '__main__':
    sys.exit(main())
