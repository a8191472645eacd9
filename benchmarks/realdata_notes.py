"""The real-data benchmark's Markdown report: run facts, then tables."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from benchmarks import quality
from benchmarks import realdata_report as report
from benchmarks.realdata_data import DOMAIN_NAMES, load_size_for
from mm_cyclegan.models.identity_anneal import IdentityAnneal

# The degraded copies the realism KID must rank worse than real images.
KID_CHECKED = ('blurred', 'noised', 'colour_shifted')
LEGEND = (
    'success: share the classifier puts in the target domain '
    '(higher is better); content SSIM: luminance, input vs '
    'translation (higher keeps more content); realism KID: in the '
    'classifier\'s feature space vs the real target test images '
    '(lower is better); cycle L1 in [0, 1] units (lower is better); '
    'pattern dB: the 2/4 px periodic pattern of the translations '
    '(benchmarks/checkerboard.py; real images about 0 or below, '
    'lower is better). '
    'Cells: mean (min–max) over seeds. Wrecked: content SSIM more '
    f'than {report.WRECK_MARGIN} below the mean of all runs of that '
    'direction; a model with wrecked runs gets a second summary row '
    'without them, because a wrecked picture can still score well (a '
    'blurred mess in the target\'s colours fools success and even the '
    'realism KID).')


def _upsampling(model_cfg: dict) -> str:
    """``'deconv'``, or ``'a2b resize_conv, b2a deconv'`` when they
    differ."""
    modes = [(model_cfg.get(f'generator_{d}') or model_cfg['generator_a2b']
              ).get('upsample_mode', 'deconv') for d in ('a2b', 'b2a')]
    return modes[0] if modes[0] == modes[1] else (
        f'a2b {modes[0]}, b2a {modes[1]}')


def _identity(model_cfg: dict) -> str:
    """``'identity 0.5 x cycle'``, with its anneal when there is one."""
    weight = model_cfg.get('identity_weight', 0.5)
    text = f'identity {weight:g} x cycle'
    if model_cfg.get('identity_anneal'):
        # The model's own reading of the config: its defaults, not copies.
        anneal = IdentityAnneal(weight, model_cfg['identity_anneal'])
        text += (f', annealed to {anneal.end_weight:g} between '
                 f'{anneal.begin:.0%} and {anneal.end:.0%} of the run')
    return text


def _model_line(model_cfg: dict, pool: tuple) -> str:
    gen, disc = model_cfg['generator_a2b'], model_cfg['discriminator_b']
    extras = [k for k in ('gradient_penalty', 'identity_loss')
              if model_cfg.get(k)]
    return (
        f'ours: ResnetGenerator base {gen.get("base_channels")}, '
        f'{gen.get("num_blocks")} blocks, '
        f'{_upsampling(model_cfg)}; PatchDiscriminator base '
        f'{disc.get("base_channels")}, {disc.get("num_conv")} strided '
        f'convs; {_identity(model_cfg)}; '
        f'{model_cfg.get("update_order", "generators_first")}; '
        f'ImagePool({pool[0]}, {pool[1]})' +
        (f'; {", ".join(extras)}' if extras else ''))


def _side_by_side(args: argparse.Namespace) -> str:
    if not args.parallel:
        return ''
    if args.baseline_from:
        return (' (only ours trained, two seeds at once, one thread '
                'each; an odd last seed alone on all threads)')
    return ' (ours and MMagic trained side by side, one thread each)'


def _mmagic_line(args: argparse.Namespace, pool: tuple) -> str:
    return ('MMagic 1.2.0 built-in CycleGAN: same networks with deconv '
            'upsampling (its only kind), identity 0.5 absolute, '
            f'discriminators first, GANImageBuffer({pool[0]})' + (
                f'; its runs reused from {args.baseline_from} (same '
                'options, data streams and initial weights: checked), not '
                'trained here' if args.baseline_from else ''))


def _checks_line(ready: dict) -> str:
    parts = []
    for domain, checks in ready['checks'].items():
        kid, pattern = checks['kid'], checks['pattern']
        ok = all(kid[k] > kid['real'] for k in KID_CHECKED)
        parts.append(
            f'domain {domain}: KID ' + ', '.join(
                f'{k} {v:.3f}' for k, v in kid.items()) +
            (' (blurred, noised, colour-shifted all worse: ok)' if ok else
             ' (**a degraded copy scored as well as real images**)') +
            '; pattern dB ' + ', '.join(
                f'{k} {v:.2f}' for k, v in pattern.items()))
    return ('realism check (held-out real train images vs the test set, '
            'and degraded copies of them; the cross-hatched copy is for '
            'the pattern column, which KID may not see): ' +
            '; '.join(parts))


def _fid_line(runs: dict) -> str:
    if any('inception_a2b_fid' in r for r in runs.values()):
        return ('FID/KID (Inception, TranslationMetric): in realdata.json '
                '(inception_* keys)')
    return ('FID/KID (Inception): not computed, the Inception weights '
            'file is not on this machine (--inception PATH)')


def describe(args: argparse.Namespace, model_cfg: dict, pool: tuple,
             ready: dict, runs: dict, facts: list, wall: float) -> str:
    """The whole Markdown report."""
    names = DOMAIN_NAMES.get(args.dataset, ('a', 'b'))
    test = ready['test']
    begin = int(round(args.decay_start * args.iters))
    shared = facts[0]['shared']
    notes = [
        f'{args.dataset} ({names[0]} = a, {names[1]} = b): '
        f'{args.iters} iterations, batch {args.batch_size}, '
        f'{args.size} px crops of {load_size_for(args.size)} px resizes, '
        f'test on {len(test["a"])} + {len(test["b"])} whole images at '
        f'{args.size} px; seeds {" ".join(map(str, args.seeds))}; '
        f'threads {args.threads}' + _side_by_side(args),
        f'config {osp.relpath(args.config, os.getcwd())} '
        f'(net size: {args.net_size})',
        _model_line(model_cfg, pool),
        _mmagic_line(args, pool),
        f'Adam lr={args.lr:g} betas={quality.BETAS}, constant to iter '
        f'{begin}, then linear to 0 (both; the benchmark\'s schedule, '
        'not the recipe\'s); same recorded data stream per '
        'seed (sha256 ' + ', '.join(f['stream_sha256'] for f in facts) +
        ')',
        f'same initial weights: {shared[0]} of {shared[1]} tensors of ours '
        'copied into MMagic\'s' + (
            ' (the others: its deconv upsampling convs, drawn from the '
            'same seed)' if shared[0] < shared[1] else '') +
        '; MMagic = that deconv twin of ours, max output diff '
        f'{max(f["init_diff"] for f in facts):.1e}',
        f'domain classifier (train split only, seed '
        f'{args.classifier_seed}): test accuracy '
        f'{ready["accuracy"]:.3f} (minimum {args.min_accuracy})',
        _checks_line(ready),
        _fid_line(runs),
        f'wall time {wall / 60:.1f} min in total; per seed the data '
        'stream took ' + ', '.join(f'{f["data_seconds"]:.0f}'
                                   for f in facts) + ' s',
    ]
    grids = ', '.join(osp.basename(f['grid']) for f in facts if f['grid'])
    columns = ('a | ours || b | ours' if args.baseline_from else
               'a | ours | MMagic || b | ours | MMagic')
    done = [f['seed'] for f in facts]
    if len(done) < len(args.seeds):
        notes.insert(0, f'**partial**: seeds {" ".join(map(str, done))} '
                     f'of {" ".join(map(str, args.seeds))} done so far')
    return '\n'.join(
        [f'# Real-data translation quality: {args.dataset}', ''] +
        [f'- {n}' for n in notes] +
        ['', report.summary_table(runs, ready['identity'], names), '',
         report.seed_table(runs, names), '', LEGEND, '',
         f'Grids (rows: {columns}): {grids}'])
