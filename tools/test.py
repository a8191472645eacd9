"""Evaluate a trained CycleGAN checkpoint with the config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (applies compat workarounds)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description='Test a CycleGAN model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint (weights) to test; '
                        'read tensors-only, loaded strictly')
    parser.add_argument('--work-dir', help='where logs go')
    parser.add_argument('--out', metavar='DIR',
                        help='also write the translated test images to '
                        'DIR/a2b and DIR/b2a')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE')
    parser.add_argument('--verbose', action='store_true',
                        help='also print the environment, the full config '
                        'and the hook order on the console (always in the '
                        'log file)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.training import (
        build_runner,
        prepare_config,
        report_results,
    )
    from mm_cyclegan.compat import init_cpu_distributed
    from mm_cyclegan.engine import CheckpointError
    from mm_cyclegan.engine.console import set_verbose
    from mm_cyclegan.engine.hooks import add_progress_hook
    from mm_cyclegan.evaluation import add_image_writer

    set_verbose(args.verbose)

    # Weights only (tensors-only, strict): a test needs no optimiser state.
    args.load_from = args.checkpoint
    try:
        cfg = prepare_config(args)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if cfg.get('test_dataloader') is None:
        print(f'{args.config} defines no test_dataloader/test_evaluator; '
              'nothing to test.', file=sys.stderr)
        return 2
    add_image_writer(cfg, args.out)
    add_progress_hook(cfg)
    init_cpu_distributed(cfg.launcher)
    if os.environ.get('RANK', '0') == '0':
        # Building the model and test data can take a while: say so.
        print(f'Building the model and test data of {args.config} '
              f'(weights: {args.checkpoint})...', flush=True)
    try:
        runner = build_runner(cfg)
    except (ValueError, TypeError) as err:
        print(f'error in config {args.config}: {err}', file=sys.stderr)
        return 2
    try:
        metrics = runner.test()
    except CheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    report_results(runner, metrics)
    return 0


if __name__ == '__main__':
    sys.exit(main())
