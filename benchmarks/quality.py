"""Translation quality: our CycleGAN vs. MMagic 1.2.0's built-in CycleGAN.

Both are trained in this process, one after the other, on the procedural
photo -> anime landscapes with the same architecture, initial weights,
data stream (recorded once, so the order is identical), iterations,
learning-rate schedule and seed, then scored by the same
``PairedTranslationMetric`` on the paired test split (the same scenes
rendered in both styles), next to the identity baseline.

    python benchmarks/quality.py                      # the defaults
    python benchmarks/quality.py --iters 20           # a smoke run
    python benchmarks/quality.py --out /tmp/quality.md  # + .md and .json

Each model keeps its own algorithm (ours: generators first, identity
weight 0.5 x cycle weight; MMagic: discriminators first, identity weight
0.5 absolute, its ``GANImageBuffer``): the point is to compare the
defaults. Progress goes to stderr, the table to stdout.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Optional

# Allow running as a script from a checkout.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from benchmarks.quality_data import (  # noqa: E402
    as_float,
    fingerprint,
    load_test_batches,
    mmagic_batch,
    ours_batch,
    record_train_stream,
)
from benchmarks.quality_training import (  # noqa: E402
    BETAS,
    CYCLE_WEIGHT,
    DISCRIMINATOR,
    GENERATOR,
    IDENTITY_WEIGHT,
    POOL_SIZE,
    SWAP_PROB,
    build_our_optim,
    build_ours,
    log,
    score,
    seed_everything,
    train,
    warm_up,
)
from benchmarks.report import Row, markdown, text_table, to_json  # noqa: E402


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options (defaults: the benchmark's reference run)."""
    parser = argparse.ArgumentParser(
        description='Train our CycleGAN and MMagic\'s built-in CycleGAN '
        'identically and compare paired PSNR/SSIM/colour distance.')
    parser.add_argument('--iters', type=int, default=1500,
                        help='training iterations of each model')
    parser.add_argument('--size', type=int, default=64, help='image size')
    parser.add_argument('--train-samples', type=int, default=1000)
    parser.add_argument('--test-samples', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2,
                        help='torch intra-op threads')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--test-batch-size', type=int, default=8)
    parser.add_argument('--lr', type=float, default=2e-4)
    parser.add_argument(
        '--decay-start', type=float, default=0.5,
        help='fraction of --iters after which the LR decays linearly to 0 '
        '(the paper\'s shape, as in configs/cyclegan_demo.py); 1 = constant')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps on a copy of each model first')
    parser.add_argument('--log-interval', type=int, default=100)
    parser.add_argument('--out', type=Path, default=None,
                        help='also write the table to OUT.md and OUT.json')
    args = parser.parse_args(argv)
    for name in ('iters', 'size', 'train_samples', 'test_samples',
                 'threads', 'batch_size', 'test_batch_size',
                 'log_interval'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{getattr(args, name)}')
    if args.size % 4:
        parser.error(f'--size must be divisible by 4, got {args.size}')
    if args.train_samples < args.batch_size:
        parser.error(f'--train-samples ({args.train_samples}) must be >= '
                     f'--batch-size ({args.batch_size})')
    if not 0.0 <= args.decay_start <= 1.0:
        parser.error(f'--decay-start must be in [0, 1], got '
                     f'{args.decay_start}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    return args






def build_pair(args: argparse.Namespace, stream: list, tests: list
               ) -> tuple[torch.nn.Module, torch.nn.Module, tuple]:
    """Ours and MMagic's model with the same initial weights, checked to
    compute the same function with the same parameter counts; returns
    both and ``(init_diff, data_diff, parameters)``."""
    ours = build_ours(args.seed)
    theirs = mmb.build_mmagic_cyclegan(
        GENERATOR, DISCRIMINATOR, cycle_loss_weight=CYCLE_WEIGHT,
        id_loss_weight=IDENTITY_WEIGHT, buffer_size=POOL_SIZE)
    mmb.load_our_weights(ours, theirs)
    probe = tests[0]
    init_diff = mmb.check_same_function(ours, theirs, probe['img_a'],
                                        probe['img_b'])
    first_a, first_b = (as_float(x) for x in stream[0])
    data_diff = max(
        mmb.check_data_round_trip(theirs, first_a, first_b),
        mmb.check_data_round_trip(theirs, probe['img_a'], probe['img_b']))
    params = {
        name: mmb.parameter_count(getattr(ours, name))
        for name in mmb.OURS_TO_MMAGIC
    }
    for name, (group, domain) in mmb.OURS_TO_MMAGIC.items():
        count = mmb.parameter_count(getattr(theirs, group)[domain])
        if count != params[name]:
            raise RuntimeError(f'{name}: {params[name]} parameters, MMagic '
                               f'{group}[{domain!r}] {count}')
    return ours, theirs, (init_diff, data_diff, params)


def result_rows(args: argparse.Namespace, ours_metrics: dict,
                shipped_metrics: dict, eval_metrics: dict, ours_time: dict,
                mmagic_time: dict) -> list:
    """The report's rows: the identity baseline, ours, MMagic twice."""
    identity = {
        key[:-len('_identity')]: value
        for key, value in ours_metrics.items() if key.endswith('_identity')
    }
    rows = [
        Row('identity', 'identity (input as output)', identity),
        Row('ours', 'ours (eval mode)', _model_only(ours_metrics),
            ours_time['seconds'], ours_time['cpu_seconds'], args.iters),
        Row('mmagic_test_step', 'MMagic test_step (forces train mode)',
            _model_only(shipped_metrics), mmagic_time['seconds'],
            mmagic_time['cpu_seconds'], args.iters),
        Row('mmagic_eval', 'MMagic, eval mode', _model_only(eval_metrics),
            mmagic_time['seconds'], mmagic_time['cpu_seconds'], args.iters),
    ]
    return rows


def run(args: argparse.Namespace) -> dict:
    """Train and score both models; return everything the report needs."""
    torch.set_num_threads(args.threads)
    log(f'recording {args.iters} training batches ...')
    tic = time.perf_counter()
    stream = record_train_stream(args)
    tests = load_test_batches(args)
    data_seconds = time.perf_counter() - tic
    digest = fingerprint(stream)
    log(f'data ready in {data_seconds:.1f} s (stream sha256 {digest})')

    ours, theirs, checks = build_pair(args, stream, tests)
    init_diff, data_diff, params = checks
    log(f'same initial function (max |diff| {init_diff:.2e}); MMagic input '
        f'round trip max |diff| {data_diff:.2e}; parameters {params}')

    # Ours, with the pools ImagePoolHook makes on rank 0.
    from mm_cyclegan.engine import make_image_pools
    ours.set_image_pools(make_image_pools(POOL_SIZE, SWAP_PROB,
                                          seed=args.seed))
    if args.warmup:
        log(f'warming up ({args.warmup} steps each, on copies)')
        warm_up(ours, lambda m: build_our_optim(m, args.lr), ours_batch,
                stream[:args.warmup])
        warm_up(theirs, lambda m: mmb.make_optim_wrapper(m, args.lr, BETAS),
                mmagic_batch, stream[:args.warmup])

    seed_everything(args.seed)
    ours_time = train(
        'ours', ours, build_our_optim(ours, args.lr), ours_batch, stream,
        args)
    with torch.no_grad():
        ours_metrics, scored = score([(b, ours.test_step(b))
                                      for b in tests])

    seed_everything(args.seed)
    mmagic_time = train(
        'mmagic', theirs, mmb.make_optim_wrapper(theirs, args.lr, BETAS),
        mmagic_batch, stream, args)
    translated = [(b, mmb.translate_test_batch(theirs, b)) for b in tests]
    shipped_metrics, _ = score([(b, t['test_step']) for b, t in translated])
    eval_metrics, _ = score([(b, t['eval']) for b, t in translated])

    rows = result_rows(args, ours_metrics, shipped_metrics, eval_metrics,
                       ours_time, mmagic_time)
    mode_diff = max(
        abs(shipped_metrics[k] - eval_metrics[k]) for k in shipped_metrics)
    return dict(rows=rows, scored=scored, mode_diff=mode_diff,
                load=dict(ours=ours_time['load'],
                          mmagic=mmagic_time['load']),
                data_seconds=data_seconds, digest=digest,
                init_diff=init_diff, data_diff=data_diff, parameters=params)


def _model_only(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not k.endswith('_identity')}


def _span(values: Optional[tuple]) -> str:
    if not values:
        return 'n/a'
    return f'{values[0]:.1f}-{values[1]:.1f}'


def describe(args: argparse.Namespace, result: dict) -> list[str]:
    """The run parameters, one line each."""
    begin = int(round(args.decay_start * args.iters))
    schedule = ('constant' if begin >= args.iters else
                f'constant to iter {begin}, then linear to 0 at '
                f'{args.iters}')
    g, d = GENERATOR, DISCRIMINATOR
    load = result['load']
    return [
        f'iters={args.iters} batch={args.batch_size} size={args.size} '
        f'train_samples={args.train_samples} test_samples={args.test_samples}'
        f' (scored {result["scored"]} paired) seed={args.seed} '
        f'threads={args.threads}',
        f'Adam lr={args.lr:g} betas={BETAS}, LR {schedule} (same for both)',
        f'generator: ResnetGenerator base {g["base_channels"]}, '
        f'{g["num_blocks"]} blocks, deconv, IN, {g["padding_mode"]}; '
        f'discriminator: PatchDiscriminator base {d["base_channels"]}, '
        f'{d["num_conv"]} strided convs, IN; parameters per network '
        f'{result["parameters"]}',
        f'same initial weights (MMagic copy adapted to BGR; max output diff '
        f'{result["init_diff"]:.1e}); same data stream (sha256 '
        f'{result["digest"]}; MMagic input round trip '
        f'{result["data_diff"]:.1e})',
        f'ours: generators first, LSGAN, cycle {CYCLE_WEIGHT:g}, identity '
        f'{IDENTITY_WEIGHT:g} x {CYCLE_WEIGHT:g} = '
        f'{IDENTITY_WEIGHT * CYCLE_WEIGHT:g}, ImagePool({POOL_SIZE}, '
        f'{SWAP_PROB}) seeded',
        f'MMagic 1.2.0: discriminators first, LSGAN, cycle {CYCLE_WEIGHT:g},'
        f' identity {IDENTITY_WEIGHT:g} (absolute), GANImageBuffer('
        f'{POOL_SIZE}, {SWAP_PROB}) on np.random seeded',
        'MMagic test_step vs eval mode: largest metric difference '
        f'{result["mode_diff"]:.1e}' + (
            ' (instance norm without running statistics and no dropout: '
            'train and eval mode are the same function here)'
            if result['mode_diff'] < 1e-4 else ''),
        f'data rendering {result["data_seconds"]:.0f} s, shared, not in the '
        'training times; "train s" is wall time, "cpu s" process CPU time; '
        f'1-min load average during training: ours {_span(load["ours"])}, '
        f'MMagic {_span(load["mmagic"])} (on {os.cpu_count()} CPUs)',
    ]


def main(argv: Optional[list] = None) -> int:
    """Entry point; prints the table and returns the exit code."""
    args = parse_args(argv)
    result = run(args)
    title = ('CycleGAN translation quality, procedural photo <-> anime: '
             'ours vs MMagic 1.2.0 built-in')
    notes = describe(args, result)
    print(text_table(title, notes, result['rows']), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        md_path = args.out.with_suffix('.md')
        json_path = args.out.with_suffix('.json')
        md_path.write_text(markdown(title, notes, result['rows']),
                           encoding='utf-8')
        parameters = {k: (str(v) if isinstance(v, Path) else v)
                      for k, v in vars(args).items()}
        json_path.write_text(to_json(parameters, result['rows'], dict(
            notes=notes, stream_sha256=result['digest'],
            scored_samples=result['scored'],
            network_parameters=result['parameters'],
            load_average=result['load'])), encoding='utf-8')
        log(f'wrote {md_path} and {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
