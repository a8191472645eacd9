"""What the identity weight does: one model per weight, same everything else.

Trains our CycleGAN (the quality benchmark's demo-size networks, data
stream, schedule and seed; see ``benchmarks/quality.py``) once per identity
weight (default 0, 0.05 and 0.5, relative to the cycle weight of 10 as in
the paper: 0.05 is MMagic 1.2.0's absolute 0.5) and scores each on the
paired procedural test split:

* paired PSNR/SSIM/colour ΔE against the true translation (only possible on
  procedural data), next to the identity baseline;
* the unpaired statistics real data allows: how much each generator
  changes its input (``change``), the cycle error, the gap of the outputs'
  colour statistics to the target domain, and FID/KID per direction when
  the Inception weights file is found (``--inception PATH`` or the usual
  places; see ``mm_cyclegan/evaluation/inception.py``).

    python benchmarks/identity_weight.py --iters 600 --out /tmp/idt
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

import mm_cyclegan  # noqa: E402,F401
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from benchmarks import quality_data as data  # noqa: E402
from benchmarks import quality_training as training  # noqa: E402


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', type=float, nargs='+',
                        default=[0.0, 0.05, 0.5],
                        help='identity weights (relative to the cycle '
                        'weight)')
    parser.add_argument('--iters', type=int, default=1500)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--train-samples', type=int, default=1000)
    parser.add_argument('--test-samples', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--inception', default=None,
                        help='Inception weights file for FID/KID')
    parser.add_argument('--out', type=Path, default=None,
                        help='write OUT.json with every number')
    args = parser.parse_args(argv)
    # The quality benchmark's remaining options, at its defaults.
    args.batch_size, args.test_batch_size, args.lr = 1, 8, 2e-4
    args.decay_start, args.log_interval, args.warmup = 0.5, 100, 0
    return args


def build(seed: int, identity_weight: float) -> torch.nn.Module:
    """``quality_training.build_ours`` with another identity weight."""
    from mm_cyclegan.registry import MODELS
    cfg = dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', upsample_mode='deconv',
                           **training.GENERATOR),
        discriminator_b=dict(type='PatchDiscriminator',
                             **training.DISCRIMINATOR),
        gan_loss=dict(type='GANLoss', gan_type='lsgan'),
        cycle_loss_a=dict(type='CycleConsistencyLoss',
                          loss_weight=training.CYCLE_WEIGHT),
        identity_weight=identity_weight)
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        model = MODELS.build(cfg)
    torch.manual_seed(seed)
    for name in mmb.OURS_TO_MMAGIC:
        getattr(model, name).init_weights()
    from mm_cyclegan.engine import make_image_pools
    model.set_image_pools(make_image_pools(training.POOL_SIZE,
                                           training.SWAP_PROB, seed=seed))
    return model


def evaluate(model, tests: list, inception: Optional[str]) -> dict:
    """Paired metrics and unpaired statistics of one trained model."""
    from mm_cyclegan.evaluation import (
        PairedTranslationMetric,
        TranslationMetric,
    )
    paired = PairedTranslationMetric()
    unpaired = TranslationMetric(inception_weights=inception,
                                 missing_weights='fallback',
                                 kid_subset_size=1000)
    with torch.no_grad():
        for batch in tests:
            outputs = model.test_step(batch)
            paired.process(batch, outputs)
            unpaired.process(batch, outputs)
    result = paired.compute_metrics(paired.results)
    result.update(unpaired.compute_metrics(unpaired.results))
    return result


_COLUMNS = (('PSNR', 'psnr', '.2f'), ('SSIM', 'ssim', '.3f'),
            ('dE', 'color', '.2f'), ('change', 'change_l1', '.3f'),
            ('cycle', 'cycle_l1', '.3f'), ('col.gap', 'color_gap', '.3f'),
            ('FID', 'fid', '.1f'), ('KID', 'kid', '.4f'))


def _row(label: str, direction: str, metrics: dict) -> str:
    cells = []
    for _, key, fmt in _COLUMNS:
        value = metrics.get(f'{direction}_{key}',
                            metrics.get(f'{direction}/{key}'))
        cells.append('n/a' if value is None else format(value, fmt))
    return f'{label:<16}{direction:<5}' + ''.join(f'{c:>9}' for c in cells)


def table(results: dict) -> str:
    """One line per (identity weight, direction), plus the baseline."""
    head = f'{"model":<16}{"dir":<5}' + ''.join(
        f'{name:>9}' for name, _, _ in _COLUMNS)
    lines = [head, '-' * len(head)]
    first = next(iter(results.values()))
    for direction in ('a2b', 'b2a'):
        baseline = {
            f'{direction}_psnr': first[f'{direction}_psnr_identity'],
            f'{direction}_ssim': first[f'{direction}_ssim_identity'],
            f'{direction}_color': first[f'{direction}_color_identity'],
            f'{direction}_change_l1': 0.0,
            f'{direction}_color_gap':
            first[f'{direction}/color_gap_identity'],
            f'{direction}_fid': first.get(f'{direction}/fid_identity'),
            f'{direction}_kid': first.get(f'{direction}/kid_identity'),
        }
        lines.append(_row('input as output', direction,
                          {k: v for k, v in baseline.items()
                           if v is not None}))
        for weight, metrics in results.items():
            lines.append(_row(f'identity {weight:g}', direction, metrics))
    return '\n'.join(lines)


def main(argv: Optional[list] = None) -> int:
    """Train one model per identity weight and print the table."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    stream = data.record_train_stream(args)
    tests = data.load_test_batches(args)
    results, seconds = {}, {}
    for weight in args.weights:
        model = build(args.seed, weight)
        training.seed_everything(args.seed)
        tic = time.perf_counter()
        training.train(f'identity {weight:g}', model,
                       training.build_our_optim(model, args.lr),
                       data.ours_batch, stream, args)
        seconds[weight] = time.perf_counter() - tic
        model.eval()
        results[weight] = evaluate(model, tests, args.inception)
    print(f'identity weight trade-off: {args.iters} iterations, '
          f'{args.size} px, seed {args.seed}, cycle weight '
          f'{training.CYCLE_WEIGHT:g}, identity term = weight x cycle '
          'weight; PSNR/SSIM higher is better, the rest lower')
    print(table(results))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix('.json').write_text(json.dumps(
            dict(args={k: str(v) for k, v in vars(args).items()},
                 seconds=seconds,
                 results={str(k): v for k, v in results.items()}),
            indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
