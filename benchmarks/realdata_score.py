"""Score trained CycleGAN weights on a real dataset's test split.

The real-data benchmark's measures (``benchmarks/realdata.py``: success
from a domain classifier trained on the train split, content SSIM of
luminance, realism KID in the classifier's feature space, cycle L1) for
weights trained elsewhere, e.g. a recipe run with ``tools/train.py``; one
row per weights file, after the identity baseline (the input given back
unchanged). Test images are resized to ``--size`` (the size the recipe
trained at is the fair one) and translated whole.

    python benchmarks/realdata_score.py --dataset photo2anime --size 96 \\
        work_dirs/<recipe>/iter_3000.pth

Writes ``score.md``, ``score.json`` and ``score_grid.png`` (per row:
A | A->B || B | B->A, the first weights file) to ``--out-dir``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402
from torch import nn  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import realdata  # noqa: E402
from benchmarks import realdata_data as rd  # noqa: E402
from benchmarks import realdata_metrics as rm  # noqa: E402
from benchmarks import realdata_models as models  # noqa: E402
from benchmarks import realdata_report as report  # noqa: E402
from mm_cyclegan.apis import Translator  # noqa: E402

log = realdata.log


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('weights', nargs='+',
                   help='weights files (any kind tools/translate.py reads)')
    p.add_argument('--dataset', required=True, choices=rd.DATASETS)
    p.add_argument('--data-root',
                   default=osp.join(osp.dirname(REPO), 'shared', 'data'),
                   help='folder holding <dataset>/trainA, ...')
    p.add_argument('--size', type=int, default=64,
                   help='test images are resized to this (multiple of 4)')
    p.add_argument('--threads', type=int, default=2)
    realdata.add_classifier_options(p)
    p.add_argument('--out-dir', default=None,
                   help='default: WORK_DIR/<dataset>/score')
    p.add_argument('--grid-rows', type=int, default=8)
    args = p.parse_args(argv)
    if args.size % 4 or args.size < 12:
        p.error(f'--size must be a multiple of 4 and >= 12, got '
                f'{args.size}')
    for name in ('threads', 'classifier_epochs', 'grid_rows'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got '
                    f'{getattr(args, name)}')
    for path in args.weights:
        if not osp.exists(path):
            p.error(f'weights file not found: {path}')
    args.out_dir = args.out_dir or osp.join(args.work_dir, args.dataset,
                                            'score')
    return args


class _Generators(nn.Module):
    """Both loaded generators under the names the benchmark's translator
    looks up (``generator_a2b``, ``generator_b2a``)."""

    def __init__(self, translator: Translator) -> None:
        super().__init__()
        for direction in ('a2b', 'b2a'):
            if direction not in translator.directions:
                raise ValueError(
                    f'{translator.info.source} has no {direction} '
                    f'generator (it has {translator.directions}); scoring '
                    'needs both directions')
            self.add_module(f'generator_{direction}',
                            translator.generator(direction))


def score_weights(path: str, ready: dict) -> tuple[dict, dict]:
    """Scores per direction of one weights file, and its translations."""
    translator = Translator.from_file(path, precision='fp32')
    generators = _Generators(translator)
    outputs = models.translate_all(generators,
                                   models.our_translator(generators),
                                   ready['test'])
    scores = {}
    for d, s, t in (('a2b', 'a', 'b'), ('b2a', 'b', 'a')):
        fake, rec = outputs[d]
        scores[d] = rm.score_direction(ready['classifier'],
                                       ready['test'][s], fake, rec,
                                       ready['test'][t], t)
    return scores, outputs


def table(rows: dict, names: tuple) -> str:
    """Markdown: one row per label (``{label: {direction: scores}}``)."""
    headers = ['weights'] + report.column_headers(names)
    lines = ['| ' + ' | '.join(headers) + ' |',
             '|' + '|'.join(['---'] + ['---:'] * (len(headers) - 1)) + '|']
    for label, scores in rows.items():
        cells = [format(scores[d][m], f) for m, _, f, _ in report.MEASURES
                 for d in report.DIRECTIONS]
        lines.append('| ' + ' | '.join([label] + cells) + ' |')
    return '\n'.join(lines)


def label_of(path: str) -> str:
    """``run/iter_3000.pth`` for a file in a run folder."""
    return '/'.join(osp.abspath(path).split(os.sep)[-2:])


def main(argv: Optional[list] = None) -> int:
    """Entry point: prints the Markdown table; 3 if the classifier is too
    weak to score with."""
    args = parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    ready = realdata.prepare(args)
    if ready['accuracy'] < args.min_accuracy:
        log(f'refusing to score: the domain classifier is '
            f'{ready["accuracy"]:.3f} accurate, below --min-accuracy '
            f'{args.min_accuracy}')
        return 3
    rows = {report.LABELS['identity']: ready['identity']}
    first = None
    for path in args.weights:
        rows[label_of(path)], outputs = score_weights(path, ready)
        first = first or outputs
    names = rd.DOMAIN_NAMES.get(args.dataset, ('a', 'b'))
    text = '\n'.join([
        f'{args.dataset} test split ({len(ready["test"]["a"])} + '
        f'{len(ready["test"]["b"])} images at {args.size} px); domain '
        f'classifier test accuracy {ready["accuracy"]:.3f}.', '',
        table(rows, names)])
    print(text, flush=True)
    with open(osp.join(args.out_dir, 'score.md'), 'w',
              encoding='utf-8') as f:
        f.write(text + '\n')
    with open(osp.join(args.out_dir, 'score.json'), 'w',
              encoding='utf-8') as f:
        json.dump(dict(parameters=vars(args), accuracy=ready['accuracy'],
                       realism_check=ready['checks'], scores=rows), f,
                  indent=2)
    report.save_pairs_grid(osp.join(args.out_dir, 'score_grid.png'),
                           ready['test'], {d: first[d][0] for d in
                                           report.DIRECTIONS},
                           args.grid_rows)
    log(f'wrote {args.out_dir}/score.md in '
        f'{time.perf_counter() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
