"""Quality guard of the fast mode: does bf16 cost quality on the demo?

Two checks (targets of the speed work):

1. The demo trained with ``--amp`` (bf16 autocast) keeps both directions'
   paired PSNR within 0.3 dB of the demo trained in fp32.
2. bf16 inference of a trained model is >= 35 dB PSNR from its fp32
   inference (per direction, mean over the demo's 64 test scenes).

All models are scored the same way here, in fp32 and eval mode, on the
demo's paired test split (PSNR/SSIM/colour as the demo's table), from their
final checkpoints. Pass existing work dirs, or let the script train what is
missing with ``tools/train.py configs/cyclegan_demo.py [--amp]`` (about 5
minutes each on 2 cores with native bf16; bf16 training on a CPU without it
is emulated, about 12x slower, and needs ``--force-bf16``).

A GAN's final scores move with rounding-level changes (two fp32 runs whose
optimisers differ only in float rounding end up dB apart), so one fp32 run
is a noisy reference. Give several fp32 runs that differ only in rounding
(``--fp32-run A B``, e.g. Adam fused and Adam with ``fused=False`` via
``--cfg-options``): the report gives their spread and checks bf16 both
against the first run (the literal two-sided target) and against the fp32
band: bf16 must not fall below its lowest run minus 0.3 dB ("bf16 costs no
quality"; above the band is reported, not failed). The exit code follows
the band check and the inference check.

    python benchmarks/bf16_quality.py --fp32-run work_dirs/cyclegan_demo \\
        --bf16-run work_dirs/cyclegan_demo_bf16 --out bf16_quality.md

With ``--seeds 0 1 2`` the script trains (where missing) one fp32 and one
bf16 demo per seed under ``--work-root`` and also compares the means: the
mean bf16 - mean fp32 PSNR with its standard error, reported "unresolved"
when the difference is outside ±0.3 dB but within two standard errors of it.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'cyclegan_demo.py')
PSNR_TOLERANCE_DB = 0.3
BF16_INFERENCE_MIN_DB = 35.0


def log(message: str) -> None:
    """Progress on stderr (the report goes to stdout)."""
    print(f'[bf16-quality {time.strftime("%H:%M:%S")}] {message}',
          file=sys.stderr, flush=True)


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--fp32-run', nargs='+',
                   default=['work_dirs/cyclegan_demo'],
                   help='work dir(s) of fp32 demo runs; the first is '
                   'trained if empty')
    p.add_argument('--bf16-run', nargs='+',
                   default=['work_dirs/cyclegan_demo_bf16'],
                   help='work dir(s) of bf16 demo runs; the first is '
                   'trained if empty')
    p.add_argument('--seeds', type=int, nargs='+',
                   help='instead of --fp32-run/--bf16-run: one fp32 and one '
                   'bf16 run per seed (randomness.seed) under --work-root, '
                   'trained where missing; the report compares the means')
    p.add_argument('--work-root', default='work_dirs/bf16_quality',
                   help='where --seeds runs live')
    p.add_argument('--config', default=DEMO_CONFIG,
                   help='the demo config (both runs)')
    p.add_argument('--force-bf16', action='store_true',
                   help='train the bf16 run even without native bf16')
    p.add_argument('--out', help='also write the Markdown report here')
    return p.parse_args(argv)


def final_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint a finished run points at, or None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer, encoding='utf-8') as f:
        name = f.read().strip()
    path = name if osp.isabs(name) else osp.join(work_dir, name)
    return path if osp.isfile(path) else None


def train(config: str, work_dir: str, amp: bool,
          seed: Optional[int] = None) -> str:
    """Train the demo into ``work_dir`` (a subprocess, as users run it)."""
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
           '--work-dir', work_dir, '--no-test']
    if amp:
        # bf16 asked for by name: --amp alone is fp32 on a CPU without
        # native bf16 (the one meaning of 'auto').
        cmd += ['--amp', '--cfg-options', 'amp.dtype=bfloat16']
    if seed is not None:
        cmd += ['--cfg-options', f'randomness.seed={seed}']
    if osp.isdir(work_dir) and os.listdir(work_dir):
        cmd.append('--overwrite')
    log('training: ' + ' '.join(cmd))
    subprocess.run(cmd, check=True)
    checkpoint = final_checkpoint(work_dir)
    if checkpoint is None:
        raise RuntimeError(f'training into {work_dir} left no checkpoint')
    return checkpoint


def test_batches(config: str):
    """The demo's paired test split, as batches of ``[-1, 1]`` tensors."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from torch.utils.data import DataLoader, default_collate

    from mm_cyclegan.registry import DATASETS
    dataset_cfg = Config.fromfile(config).test_dataloader.dataset
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        dataset = DATASETS.build(dataset_cfg)
    return DataLoader(dataset, batch_size=8, shuffle=False,
                      collate_fn=default_collate)


@torch.no_grad()
def score(checkpoint: str, config: str) -> dict:
    """Paired metrics of a checkpoint (fp32 inference), and the PSNR of
    its bf16 inference against its fp32 inference per direction."""
    from mm_cyclegan.apis import Translator
    from mm_cyclegan.apis.weights.load import load_weights
    from mm_cyclegan.evaluation import PairedTranslationMetric
    from mm_cyclegan.evaluation.functional import psnr
    loaded = load_weights(checkpoint)  # read the file once
    fp32 = Translator.from_loaded(loaded, precision='fp32')
    bf16 = Translator.from_loaded(loaded, precision='bf16')
    metric = PairedTranslationMetric(prefix=None)
    agreement: dict = {'a2b': [], 'b2a': []}
    for batch in test_batches(config):
        real_a, real_b = batch['img_a'], batch['img_b']
        fake_b = fp32.translate_tensor(real_a, 'a2b')
        fake_a = fp32.translate_tensor(real_b, 'b2a')
        samples = [dict(real_a=real_a[i], real_b=real_b[i],
                        fake_a=fake_a[i], fake_b=fake_b[i], paired=True,
                        valid_a=True, valid_b=True)
                   for i in range(real_a.shape[0])]
        metric.process({}, samples)
        for direction, src, ref in (('a2b', real_a, fake_b),
                                    ('b2a', real_b, fake_a)):
            low = bf16.translate_tensor(src, direction)
            agreement[direction] += psnr((low + 1) / 2,
                                         (ref + 1) / 2).tolist()
    metrics = metric.compute_metrics(metric.results)
    for direction, values in agreement.items():
        metrics[f'{direction}_bf16_vs_fp32_psnr'] = sum(values) / len(values)
        metrics[f'{direction}_bf16_vs_fp32_psnr_min'] = min(values)
    return metrics


def _mean_se(values: list) -> tuple:
    """Mean and standard error of the mean (0 for a single value)."""
    if len(values) < 2:
        return values[0], 0.0
    return (statistics.fmean(values),
            statistics.stdev(values) / len(values) ** 0.5)


_DIRECTIONS = ('a2b', 'b2a')


def _score_table(rows: list) -> list:
    """One table row per run and direction: scores and bf16 inference."""
    from mm_cyclegan.engine.precision import cpu_bf16_support
    lines = ['## bf16 quality guard (`benchmarks/bf16_quality.py`)', '',
             f'- {cpu_bf16_support().detail}; torch {torch.__version__}',
             '', '| training | checkpoint | dir | PSNR | SSIM | ΔE | bf16 '
             'inference vs fp32 PSNR (mean / min) |',
             '|---|---|---|---|---|---|---|']
    for name, path, metrics in rows:
        for d in _DIRECTIONS:
            lines.append(
                f'| {name} | `{path}` | {d} | {metrics[f"{d}_psnr"]:.2f} | '
                f'{metrics[f"{d}_ssim"]:.3f} | {metrics[f"{d}_color"]:.2f} '
                f'| {metrics[f"{d}_bf16_vs_fp32_psnr"]:.1f} / '
                f'{metrics[f"{d}_bf16_vs_fp32_psnr_min"]:.1f} |')
    return lines


def _literal_check(fp32: dict, bf16: dict) -> tuple[list, bool]:
    """The first bf16 run against the first fp32 run (the target read
    literally)."""
    tol = PSNR_TOLERANCE_DB
    first_fp32, first_bf16 = next(iter(fp32.values())), next(
        iter(bf16.values()))
    deltas = [first_bf16[f'{d}_psnr'] - first_fp32[f'{d}_psnr']
              for d in _DIRECTIONS]
    literal = all(abs(x) <= tol for x in deltas)
    return [f'| bf16 #1 − fp32 #1, PSNR dB | {deltas[0]:+.2f} | '
            f'{deltas[1]:+.2f} | within ±{tol} | '
            f'{"yes" if literal else "NO"} |'], literal


def _band_checks(fp32: dict, bf16: dict) -> tuple[list, bool]:
    """Several runs: fp32 spread, mean and median differences, and
    whether the bf16 mean stays inside (or above) the fp32 band."""
    tol = PSNR_TOLERANCE_DB
    cells, verdicts, holds, means, medians = [], [], [], [], []
    for d in _DIRECTIONS:
        f_values = [m[f'{d}_psnr'] for m in fp32.values()]
        b_values = [m[f'{d}_psnr'] for m in bf16.values()]
        # One run in a GAN's other basin moves a mean by dB; the
        # median shows whether the typical run moved.
        medians.append(statistics.median(b_values) -
                       statistics.median(f_values))
        low, high = min(f_values), max(f_values)
        f_mean, f_se = _mean_se(f_values)
        b_mean, b_se = _mean_se(b_values)
        diff, se = b_mean - f_mean, (f_se ** 2 + b_se ** 2) ** 0.5
        # Within tolerance, or not told apart from it by the noise.
        means.append((diff, se, 'yes' if abs(diff) <= tol else
                      'unresolved' if abs(diff) - 2 * se <= tol else
                      'bf16 better' if diff > 0 else 'NO'))
        holds.append(b_mean >= low - tol)
        verdicts.append('below' if b_mean < low - tol else
                        'above' if b_mean > high + tol else 'inside')
        cells.append(f'{low:.2f}–{high:.2f} (spread {high - low:.2f})')
    band = all(holds)
    return [
        f'| fp32 runs, PSNR dB | {cells[0]} | {cells[1]} | – | – |',
        f'| mean bf16 − mean fp32 ({len(bf16)} vs {len(fp32)} runs), '
        f'PSNR dB ± standard error | {means[0][0]:+.2f} ± '
        f'{means[0][1]:.2f} | {means[1][0]:+.2f} ± {means[1][1]:.2f} | '
        f'within ±{tol} | {means[0][2]} / {means[1][2]} |',
        f'| median bf16 − median fp32, PSNR dB | {medians[0]:+.2f} | '
        f'{medians[1]:+.2f} | – | – |',
        f'| mean of bf16 against the fp32 band ±{tol} dB | '
        f'{verdicts[0]} | {verdicts[1]} | not below | '
        f'{"yes" if band else "NO"} |'], band


def _inference_checks(rows: list) -> tuple[list, bool]:
    """Every model's bf16 inference close enough to its fp32 inference."""
    lines, ok = [], True
    for name, _, metrics in rows:
        values = [metrics[f'{d}_bf16_vs_fp32_psnr'] for d in _DIRECTIONS]
        holds = all(v >= BF16_INFERENCE_MIN_DB for v in values)
        ok &= holds
        lines.append(f'| bf16 vs fp32 inference, {name} model, PSNR dB | '
                     f'{values[0]:.1f} | {values[1]:.1f} | '
                     f'≥ {BF16_INFERENCE_MIN_DB:.0f} | '
                     f'{"yes" if holds else "NO"} |')
    return lines, ok


def report(fp32: dict, bf16: dict) -> tuple:
    """Markdown report and whether the band and inference checks hold.

    ``fp32`` and ``bf16`` map each run's checkpoint to its scores; the
    first of each is the pair of the literal target. With several runs
    the band check decides, with one pair the literal check.
    """
    rows = [(f'fp32 #{i + 1}', path, m)
            for i, (path, m) in enumerate(fp32.items())]
    rows += [(f'bf16 #{i + 1} (--amp)', path, m)
             for i, (path, m) in enumerate(bf16.items())]
    lines = _score_table(rows)
    lines += ['', '| check | a2b | b2a | target | holds |',
              '|---|---|---|---|---|']
    literal_lines, ok = _literal_check(fp32, bf16)
    lines += literal_lines
    if len(fp32) > 1 or len(bf16) > 1:
        band_lines, ok = _band_checks(fp32, bf16)
        lines += band_lines
    inference_lines, inference_ok = _inference_checks(rows)
    return '\n'.join(lines + inference_lines), ok and inference_ok


def _runs(args) -> list:
    """(work dir, amp, seed, may train) of every run to score."""
    if args.seeds:
        # Seed by seed, so that a stopped run leaves complete pairs.
        return [(osp.join(args.work_root, f'seed{seed}_{kind}'),
                 kind == 'bf16', seed, True)
                for seed in args.seeds for kind in ('fp32', 'bf16')]
    return ([(path, False, None, i == 0)
             for i, path in enumerate(args.fp32_run)] +
            [(path, True, None, i == 0)
             for i, path in enumerate(args.bf16_run)])


def main(argv: Optional[list] = None) -> int:
    """Train what is missing, score every run, print the report."""
    from mm_cyclegan.engine.precision import cpu_bf16_support
    args = parse_args(argv)
    runs = _runs(args)
    checkpoints = {}
    for work_dir, amp, _seed, may_train in runs:
        checkpoint = final_checkpoint(work_dir)
        if checkpoint is None and not may_train:
            log(f'{work_dir} holds no finished run (only the first run of '
                'each precision is trained by this script; --seeds trains '
                'all)')
            return 2
        if checkpoint is None and amp and not cpu_bf16_support().native \
                and not args.force_bf16:
            log(f'{work_dir} holds no finished run, and training one here '
                f'would be emulated ({cpu_bf16_support().detail}); pass '
                '--force-bf16 to train it anyway')
            return 2
        checkpoints[work_dir] = checkpoint
    scores: dict = {False: {}, True: {}}
    for work_dir, amp, seed, _ in runs:
        checkpoint = checkpoints[work_dir] or train(args.config, work_dir,
                                                    amp, seed)
        log(f'scoring {checkpoint}')
        scores[amp][checkpoint] = score(checkpoint, args.config)
    text, ok = report(scores[False], scores[True])
    print(text)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
