"""Tables and image grids of the real-data benchmark.

``runs`` maps ``(model, seed)`` to that run's scores: ``{'a2b': {measure:
value}, 'b2a': {...}, 'seconds': wall time}``; ``model`` is ``'ours'`` or
``'mmagic'``.
"""
from __future__ import annotations

import json
import statistics
from typing import Optional

import torch
from PIL import Image

DIRECTIONS = ('a2b', 'b2a')
# (key, header, format, better)
MEASURES = (('success', 'success', '.2f', 'higher'),
            ('ssim', 'content SSIM', '.2f', 'higher'),
            ('kid', 'realism KID', '.3f', 'lower'),
            ('cycle_l1', 'cycle L1', '.3f', 'lower'),
            ('pattern', 'pattern dB', '.2f', 'lower'))
WRECK_MARGIN = 0.2
LABELS = {'identity': 'identity (input as output)', 'ours': 'ours',
          'mmagic': 'MMagic 1.2.0 built-in'}


def wrecked(runs: dict) -> dict:
    """``{(model, seed): bool}``: a run is wrecked when its content SSIM in
    either direction is more than 0.2 below the mean over every trained
    run (both models, all seeds) of that direction."""
    means = {d: statistics.fmean(r[d]['ssim'] for r in runs.values())
             for d in DIRECTIONS}
    return {key: any(r[d]['ssim'] < means[d] - WRECK_MARGIN
                     for d in DIRECTIONS)
            for key, r in runs.items()}


def _cell(values: list, fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return (f'{format(statistics.fmean(values), fmt)} '
            f'({format(min(values), fmt)}–{format(max(values), fmt)})')


def column_headers(names: tuple) -> list[str]:
    return [f'{names[0]}→{names[1]} {h}' if d == 'a2b' else
            f'{names[1]}→{names[0]} {h}'
            for _, h, _, _ in MEASURES for d in DIRECTIONS]


def summary_table(runs: dict, identity: dict, names: tuple) -> str:
    """Mean (min–max) over seeds per model, the wrecked count and the mean
    training wall time, with the identity baseline first. A model with
    some wrecked runs gets a second row without them: a wrecked picture
    can still score well on a measure (success, even realism)."""
    broken = wrecked(runs)
    headers = ['model', 'seeds'] + column_headers(names) + ['wrecked',
                                                       'train s/seed']
    lines = ['| ' + ' | '.join(headers) + ' |',
             '|' + '|'.join(['---', '---'] + ['---:'] *
                            (len(headers) - 2)) + '|']
    cells = [format(identity[d][m], f) for m, _, f, _ in MEASURES
             for d in DIRECTIONS]
    lines.append('| ' + ' | '.join([LABELS['identity'], '-'] + cells +
                                   ['-', '-']) + ' |')
    for model in ('ours', 'mmagic'):
        keys = sorted(k for k in runs if k[0] == model)
        if not keys:
            continue
        lines.append(_summary_row(runs, broken, LABELS[model], keys))
        kept = [k for k in keys if not broken[k]]
        if kept and len(kept) < len(keys):
            lines.append(_summary_row(runs, broken,
                                      f'{LABELS[model]}, not wrecked', kept))
    return '\n'.join(lines)


def _summary_row(runs: dict, broken: dict, label: str, keys: list) -> str:
    cells = [_cell([runs[k][d][m] for k in keys], f)
             for m, _, f, _ in MEASURES for d in DIRECTIONS]
    seconds = statistics.fmean(runs[k]['seconds'] for k in keys)
    return '| ' + ' | '.join(
        [label, ' '.join(str(k[1]) for k in keys)] + cells +
        [f'{sum(broken[k] for k in keys)}/{len(keys)}',
         f'{seconds:.0f}']) + ' |'


def seed_table(runs: dict, names: tuple) -> str:
    """Every run on its own line."""
    broken = wrecked(runs)
    headers = (['model', 'seed'] + column_headers(names) +
               ['wrecked', 'train s'])
    lines = ['| ' + ' | '.join(headers) + ' |',
             '|' + '|'.join(['---', '---:'] + ['---:'] *
                            (len(headers) - 2)) + '|']
    for key in sorted(runs, key=lambda k: (k[0] != 'ours', k[1])):
        run = runs[key]
        cells = [format(run[d][m], f) for m, _, f, _ in MEASURES
                 for d in DIRECTIONS]
        lines.append('| ' + ' | '.join(
            [LABELS[key[0]], str(key[1])] + cells +
            ['yes' if broken[key] else 'no',
             f'{run["seconds"]:.0f}']) + ' |')
    return '\n'.join(lines)


def to_json(parameters: dict, runs: dict, identity: dict,
            extra: dict) -> str:
    """Every number as indented JSON."""
    broken = wrecked(runs)
    rows = [dict(model=k[0], seed=k[1], wrecked=broken[k], **v)
            for k, v in sorted(runs.items())]
    return json.dumps(dict(parameters=parameters, identity=identity,
                           runs=rows, **extra), indent=2,
                      default=str) + '\n'


def save_grid(path: str, inputs: dict, ours: dict, theirs: dict,
              rows: int = 8) -> Optional[str]:
    """A PNG: per row ``a | ours(a) | MMagic(a) || b | ours(b) |
    MMagic(b)`` for the first ``rows`` test images of each domain
    (``uint8`` ``(N, 3, S, S)`` tensors; ``ours``/``theirs`` map a
    direction to its translations)."""
    return _save_columns(path, [inputs['a'], ours['a2b'], theirs['a2b']],
                         [inputs['b'], ours['b2a'], theirs['b2a']], rows)


def save_pairs_grid(path: str, inputs: dict, outputs: dict,
                    rows: int = 8) -> Optional[str]:
    """A PNG: per row ``a | a->b || b | b->a`` (one model)."""
    return _save_columns(path, [inputs['a'], outputs['a2b']],
                         [inputs['b'], outputs['b2a']], rows)


def _save_columns(path: str, left: list, right: list, rows: int,
                  gap: int = 4) -> Optional[str]:
    """Columns of ``uint8`` ``(N, 3, S, S)`` tensors side by side, the
    ``right`` group after a white gap; the first ``rows`` of each."""
    rows = min([rows] + [len(c) for c in left + right])
    if rows == 0:
        return None
    size = left[0].shape[-1]
    columns = left + right
    canvas = torch.full((3, rows * size, len(columns) * size + gap), 255,
                        dtype=torch.uint8)
    for c, column in enumerate(columns):
        start = c * size + (gap if c >= len(left) else 0)
        for r in range(rows):
            canvas[:, r * size:(r + 1) * size,
                   start:start + size] = column[r]
    Image.fromarray(canvas.permute(1, 2, 0).numpy()).save(path)
    return path
