"""Train a CycleGAN from a config (OpenMMLab style).

    python tools/train.py configs/cyclegan_demo.py
    python tools/train.py CONFIG --max-iters 200     # a shorter run
    python tools/train.py CONFIG --resume            # latest in work dir
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
    python tools/train.py CONFIG --load-from W.pth [--partial]  # weights
    python tools/train.py CONFIG --overwrite         # replace an earlier run
    bash tools/dist_train.sh CONFIG 8                # torchrun, 8 processes
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

# Allow running from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (applies compat workarounds)
from mm_cyclegan.apis.training import (  # noqa: E402
    build_runner,
    existing_run_problem,
    prepare_config,
    remove_previous_run,
    report_results,
)

EXAMPLES = """examples:
  python tools/train.py configs/cyclegan_demo.py
  python tools/train.py configs/cyclegan_demo.py --max-iters 200
  python tools/train.py configs/cyclegan_demo.py --cfg-options \\
      model.identity_weight=0.05
  python tools/train.py configs/cyclegan_demo.py --resume

--max-iters/--max-epochs keep the recipes' learning-rate shape: constant
for the first half of the run, then linear decay to zero at its end.
"""


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description='Train a CycleGAN model', epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CKPT',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when CKPT is omitted')
    parser.add_argument('--load-from', metavar='CKPT',
                        help='initialise weights only (tensors-only loading; '
                        'strict: every key and shape must match)')
    parser.add_argument('--partial', action='store_true',
                        help='with --load-from: load the weights that fit '
                        'and list the rest (e.g. a new discriminator)')
    parser.add_argument('--overwrite', action='store_true',
                        help='train from scratch in a work dir that holds '
                        'an earlier run: once the config and data are '
                        "checked, that run's files move to "
                        'WORK_DIR/previous/<time>/ (files of yours stay)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision where the device computes it '
                        'natively: bf16 on CPUs with AVX-512 BF16/AMX and '
                        'on bf16 GPUs, fp16 with loss scaling on other '
                        'GPUs; elsewhere fp32, said in one line (force '
                        'bf16: --cfg-options amp.dtype=bfloat16)')
    parser.add_argument('--no-test', action='store_true',
                        help='skip the test pass after training')
    length = parser.add_mutually_exclusive_group()
    length.add_argument('--max-iters', type=int, metavar='N',
                        help='train N iterations (replaces the recipe\'s '
                        'length; a recipe\'s LR decay stays in the second '
                        'half)')
    length.add_argument('--max-epochs', type=int, metavar='N',
                        help='train N epochs (passes over the larger '
                        'domain), likewise')
    parser.add_argument('--verbose', action='store_true',
                        help='also print the environment, the full config '
                        'and the hook order on the console (always in the '
                        'log file)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE',
                        help='override config entries, e.g. '
                        'model.identity_weight=0.05')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.partial and not args.load_from:
        parser.error('--partial needs --load-from CKPT')
    if args.overwrite and args.resume:
        parser.error('--overwrite and --resume exclude each other')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _move_previous_run(cfg, runner) -> None:
    """--overwrite, once everything is checked: move the earlier run's own
    files aside (never delete) and say which."""
    from mmengine.dist import barrier
    moved = remove_previous_run(cfg, keep=[osp.basename(runner.log_dir)])
    barrier()
    if moved:
        names = ', '.join(osp.basename(p) + ('/' if osp.isdir(p) else '')
                          for p in moved)
        message = (f'--overwrite: moved the earlier run\'s files to '
                   f'{osp.dirname(moved[0])}: {names}')
        print(message, flush=True)
        runner.logger.info(message)


def checked_config(args: argparse.Namespace):
    """The run's config after the checks that need no runner (config,
    data, evaluation, an earlier run); ``None`` once the problem is
    printed."""
    from mm_cyclegan.apis.run_length import set_run_length
    from mm_cyclegan.engine.console import set_verbose
    from mm_cyclegan.engine.hooks import add_progress_hook
    from mm_cyclegan.engine.preflight import (
        preflight_data,
        preflight_evaluation,
    )

    set_verbose(args.verbose)
    try:
        cfg = prepare_config(args)
        set_run_length(cfg, args.max_iters, args.max_epochs,
                       args.cfg_options)
    except (FileNotFoundError, ValueError, TypeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return None
    add_progress_hook(cfg)
    problem = preflight_data(cfg) or preflight_evaluation(cfg) or (
        None if args.overwrite else existing_run_problem(cfg))
    if problem:
        print(problem, file=sys.stderr)
        return None
    return cfg


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    from mm_cyclegan.apis.run_length import discard_log_dir
    from mm_cyclegan.compat import init_cpu_distributed
    from mm_cyclegan.engine import (
        CheckpointError,
        RunFinished,
        StartupCheckError,
    )

    cfg = checked_config(args)
    if cfg is None:
        return 2
    init_cpu_distributed(cfg.launcher)
    _say(f'Building the model, data and hooks of {args.config} '
         f'(work dir {cfg.work_dir})...')
    try:
        # Builds every hook, checks hook arguments and channels: a config
        # mistake stops here, before the first iteration (and, with
        # --overwrite, before the earlier run is touched).
        runner = build_runner(cfg)
        check = getattr(runner, 'check_startup', None)
        if args.overwrite and check is not None:
            check()
    except (ValueError, TypeError) as err:
        print(f'error in config {args.config}: {err}', file=sys.stderr)
        return 2
    if args.overwrite:
        _move_previous_run(cfg, runner)
    _say('Loading the training data; the first iteration is logged as soon '
         'as it is done...')
    try:
        runner.train()
    except RunFinished as done:
        print(done, flush=True)
        discard_log_dir(runner)
        return 0
    except (CheckpointError, StartupCheckError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    metrics = None
    if not args.no_test and cfg.get('test_dataloader') is not None:
        metrics = runner.test()
    report_results(runner, metrics)
    return 0


def _say(message: str) -> None:
    """A start-up step on the console (main process), so a slow start is
    never silent."""
    if os.environ.get('RANK', '0') == '0':
        print(message, flush=True)


if __name__ == '__main__':
    sys.exit(main())
