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

from mmengine.config import Config, DictAction  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (applies compat workarounds)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description='Test a CycleGAN model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint (weights) to test')
    parser.add_argument('--work-dir', help='where logs go')
    parser.add_argument('--out', metavar='DIR',
                        help='also write the translated test images to '
                        'DIR/a2b and DIR/b2a')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.training import report_results
    from mm_cyclegan.compat import init_cpu_distributed
    from mm_cyclegan.engine import CycleGANRunner
    from mm_cyclegan.evaluation import add_image_writer

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('test_dataloader') is None:
        print(f'{args.config} defines no test_dataloader/test_evaluator; '
              'nothing to test.', file=sys.stderr)
        return 2
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = args.launcher
    # Weights only (tensors-only loading): a test never needs optimiser state.
    cfg.load_from, cfg.resume = args.checkpoint, False
    add_image_writer(cfg, args.out)
    init_cpu_distributed(cfg.launcher)
    runner = CycleGANRunner.from_cfg(cfg)
    metrics = runner.test()
    report_results(runner, metrics)
    return 0


if __name__ == '__main__':
    sys.exit(main())
