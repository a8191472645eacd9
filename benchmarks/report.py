"""The quality benchmark's one table, as text, markdown and JSON."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Optional

DIRECTIONS = (('a2b', 'a2b photo->anime'), ('b2a', 'b2a anime->photo'))
MEASURES = (('psnr', 'PSNR', '.2f'), ('ssim', 'SSIM', '.3f'),
            ('color', 'dE', '.2f'))


@dataclass
class Row:
    """One line of the table.

    Args:
        key: Stable identifier (JSON key).
        label: What the line shows.
        metrics: ``{direction}_{measure}`` means (PSNR dB, SSIM, colour
            distance ΔE), as ``PairedTranslationMetric`` returns them.
        train_seconds: Wall time of the training, ``None`` if none.
        cpu_seconds: Process CPU time of the training.
        iters: Training iterations behind ``train_seconds``.
    """

    key: str
    label: str
    metrics: dict
    train_seconds: Optional[float] = None
    cpu_seconds: Optional[float] = None
    iters: int = 0


def _value(row: Row, direction: str, measure: str) -> Optional[float]:
    value = row.metrics.get(f'{direction}_{measure}')
    return None if value is None else float(value)


def _fmt(value: Optional[float], fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return format(value, fmt)


def _cells(row: Row) -> list[str]:
    cells = [
        _fmt(_value(row, d, m), fmt) for d, _ in DIRECTIONS
        for m, _, fmt in MEASURES
    ]
    if row.train_seconds is None:
        cells += ['-'] * 3
    else:
        cells += [
            _fmt(row.train_seconds, '.0f'),
            _fmt(row.train_seconds / max(row.iters, 1), '.3f'),
            _fmt(row.cpu_seconds, '.0f')
        ]
    return cells


TIME_HEADERS = ('train s', 's/iter', 'cpu s')


def _headers() -> list[str]:
    return [f'{d} {name}' for d, _ in DIRECTIONS
            for _, name, _ in MEASURES] + list(TIME_HEADERS)


def text_table(title: str, notes: list[str], rows: list[Row]) -> str:
    """A fixed-width table with the run parameters above it."""
    label_width = max(len(r.label) for r in rows)
    names = [name for _ in DIRECTIONS for _, name, _ in MEASURES]
    names += list(TIME_HEADERS)
    widths = [max(len(n), 7) for n in names]
    span = len(MEASURES)
    groups = [
        title_.center(sum(widths[k * span:(k + 1) * span]) + 2 *
                      (span - 1)) for k, (_, title_) in enumerate(DIRECTIONS)
    ]
    training = 'training'.center(sum(widths[-len(TIME_HEADERS):]) + 2 *
                                 (len(TIME_HEADERS) - 1))
    group = '  '.join([' ' * label_width] + groups + [training])
    head = '  '.join(['model'.ljust(label_width)] +
                     [n.rjust(w) for n, w in zip(names, widths)])
    lines = [title, *notes, '', group.rstrip(), head, '-' * len(head)]
    for row in rows:
        lines.append('  '.join([row.label.ljust(label_width)] + [
            c.rjust(w) for c, w in zip(_cells(row), widths)
        ]))
    lines.append('PSNR (dB) and SSIM: higher is better; dE (CIE76 on an '
                 '8x8 block grid): lower is better.')
    return '\n'.join(lines)


def markdown(title: str, notes: list[str], rows: list[Row]) -> str:
    """The same table in GitHub markdown."""
    headers = ['model'] + _headers()
    lines = [f'# {title}', ''] + [f'- {n}' for n in notes] + [
        '', '| ' + ' | '.join(headers) + ' |',
        '|' + '|'.join(['---'] + ['---:'] * (len(headers) - 1)) + '|'
    ]
    for row in rows:
        lines.append('| ' + ' | '.join([row.label] + _cells(row)) + ' |')
    lines += [
        '', 'PSNR (dB) and SSIM: higher is better; dE (CIE76 colour '
        'distance on an 8x8 block grid): lower is better.', ''
    ]
    return '\n'.join(lines)


def to_json(parameters: dict, rows: list[Row], extra: dict) -> str:
    """Parameters, every row and ``extra`` facts as indented JSON."""
    return json.dumps(
        dict(parameters=parameters, rows=[asdict(r) for r in rows],
             **extra),
        indent=2, sort_keys=False, default=str) + '\n'
