"""The text table of :class:`~.translation_metric.TranslationMetric`."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Optional

__all__ = ['format_translation_table']

_DIRECTIONS = ('a2b', 'b2a')


def _get(metrics: Mapping, key: str) -> Optional[float]:
    for name, value in metrics.items():
        if name == key or name.endswith('/' + key):
            return float(value)
    return None


def _num(value: Optional[float], fmt: str) -> str:
    if value is None or math.isnan(value):
        return 'n/a'
    return format(value, fmt)


def format_translation_table(metrics: Mapping, note: str = '') -> str:
    """A fixed-width table of the unpaired translation metrics.

    One row per direction: FID (with the number of fake and real images it
    was computed from), KID +- std over subsets (subset size), the identity
    baseline of both (inputs scored against the same real set), the cycle
    error and the colour-statistics gap. Accepts the metric's dict, keys
    with or without a ``prefix/``; missing values show as ``n/a``.
    """
    header = (f'{"dir":4} {"FID":>8} {"(n fake/real)":>14} {"ident":>8} '
              f'{"KID":>8} {"+- std":>8} {"(m)":>6} {"ident":>8} '
              f'{"cycle":>7} {"change":>7} {"colour":>7} {"ident":>7}')
    lines = ['unpaired translation metrics (lower is better; ident = '
             'identity baseline, the inputs themselves; cycle/change = mean '
             '|error| in [0,1]; colour = channel mean/std gap to the target '
             'domain)']
    if note:
        lines.append(note)
    lines += [header, '-' * len(header)]
    small = []
    for d in _DIRECTIONS:
        n_fake, n_real = _get(metrics, f'{d}/num_fake'), _get(
            metrics, f'{d}/num_real')
        counts = ('n/a' if n_fake is None or n_real is None else
                  f'({int(n_fake)}/{int(n_real)})')
        m = _get(metrics, f'{d}/kid_subset_size')
        subset = 'n/a' if m is None else f'({int(m)})'
        if m is not None and m < 1000:
            small.append(f'{d}: {int(m)}')
        lines.append(
            f'{d:4} {_num(_get(metrics, f"{d}/fid"), ".2f"):>8} '
            f'{counts:>14} '
            f'{_num(_get(metrics, f"{d}/fid_identity"), ".2f"):>8} '
            f'{_num(_get(metrics, f"{d}/kid"), ".4f"):>8} '
            f'{_num(_get(metrics, f"{d}/kid_std"), ".4f"):>8} '
            f'{subset:>6} '
            f'{_num(_get(metrics, f"{d}/kid_identity"), ".4f"):>8} '
            f'{_num(_get(metrics, f"{d}/cycle_l1"), ".4f"):>7} '
            f'{_num(_get(metrics, f"{d}/change_l1"), ".4f"):>7} '
            f'{_num(_get(metrics, f"{d}/color_gap"), ".4f"):>7} '
            f'{_num(_get(metrics, f"{d}/color_gap_identity"), ".4f"):>7}')
    fid_counts = [_get(metrics, f'{d}/num_fake') for d in _DIRECTIONS]
    if any(n is not None and n < 2048 for n in fid_counts) and _get(
            metrics, 'a2b/fid') is not None:
        lines.append('FID from fewer than 2048 images: rank-deficient '
                     'covariances, biased upwards; compare only at equal '
                     'image counts.')
    if small:
        lines.append('KID on subsets of m < 1000 images (' +
                     ', '.join(small) + '): noisier than published KIDs.')
    return '\n'.join(lines)
