"""Export a generator to ONNX or TorchScript, checked against PyTorch.

    python tools/export.py work_dirs/cyclegan_demo/iter_2000.pth \\
        --format onnx --direction a2b --out photo2anime.onnx
    python tools/export.py model.safetensors --format torchscript --out g.pt

The exported model takes float32 (N, C, H, W) in [-1, 1] of any batch and
size (padding to the generator's multiple happens inside the graph). After
writing, it is run (onnxruntime / torch.jit.load) on two input sizes and
compared with PyTorch: max |diff| must be <= --atol (1e-4), otherwise the
file is removed and the exit code is 1.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mm_cyclegan.apis.deploy.export import FORMATS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Export a CycleGAN generator (ONNX / TorchScript).')
    parser.add_argument('weights', help='any weights tools/translate.py '
                        'reads')
    parser.add_argument('--format', choices=FORMATS, default='onnx')
    parser.add_argument('--direction', default='a2b',
                        help="'a2b' (default), 'b2a' or '<name_a>2<name_b>'")
    parser.add_argument('--out', required=True, help='file to write')
    parser.add_argument('--config', help='config overriding the one stored '
                        'in a training checkpoint')
    parser.add_argument('--domains', nargs=2, metavar=('A', 'B'),
                        help='domain names of an MMagic checkpoint (A, B)')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='parity tolerance (default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.deploy.export import ExportParityError, export
    from mm_cyclegan.apis.inference.translator import Translator
    try:
        translator = Translator.from_file(
            args.weights, direction=args.direction, precision='fp32',
            config=args.config, domains=args.domains)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    try:
        report = export(translator, args.out, args.format, atol=args.atol)
    except ExportParityError as err:
        print(f'error: export failed its parity check: {err}',
              file=sys.stderr)
        return 1
    print(f'wrote {args.out} ({args.format}, {translator.direction}: '
          f'{translator.info.describe(translator.direction)})')
    for shape, diff in report:
        print(f'  parity on input {shape}: max |diff| vs PyTorch {diff:.2e}'
              f' (<= {args.atol:g})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
