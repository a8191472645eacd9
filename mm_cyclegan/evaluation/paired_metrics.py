"""Paired translation quality: each generator and the identity baseline.

When the test split holds the same scene in both domains (the procedural
landscapes do), ``G_a2b(real_a)`` can be scored against ``real_b`` and
``G_b2a(real_b)`` against ``real_a``. Each score is reported next to the
*identity baseline*, the input itself scored against the same target, so a
model that learned nothing shows no gain.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Optional

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mm_cyclegan.registry import METRICS
from mm_cyclegan.utils.validation import check_int

from .functional import color_distance, psnr, ssim
from .samples import sample_field, sample_flag

__all__ = ['PairedTranslationMetric', 'format_metric_table']

_DIRECTIONS = ('a2b', 'b2a')
_MEASURES = ('psnr', 'ssim', 'color')


def _unit(image: Any, key: str) -> torch.Tensor:
    """A ``[-1, 1]`` CHW image as a float ``(1, C, H, W)`` tensor in
    ``[0, 1]``."""
    if not isinstance(image, torch.Tensor):
        raise TypeError(f'{key} must be a tensor in [-1, 1], got '
                        f'{type(image).__name__}')
    image = image.detach().cpu().double()
    if image.dim() == 3:
        image = image[None]
    return ((image + 1.0) / 2.0).clamp(0.0, 1.0)


@METRICS.register_module()
class PairedTranslationMetric(BaseMetric):
    """PSNR, SSIM and colour distance of both generators vs. identity.

    Args:
        prefix: Prefix of the metric names (MMEngine adds ``prefix/``).
        collect_device: Where results are gathered in distributed runs.
        color_grid: Blocks per side for :func:`color_distance`.

    ``process`` takes the model's test outputs: one mapping per image with
    ``real_a``, ``real_b``, ``fake_a``, ``fake_b`` (CHW tensors in
    ``[-1, 1]``), ``paired``, ``valid_a`` and ``valid_b``. Unpaired or
    invalid samples are skipped. ``compute_metrics`` returns the means of
    ``{direction}_{measure}`` and ``{direction}_{measure}_identity`` for
    directions ``a2b`` (``fake_b`` vs ``real_b``; identity ``real_a`` vs
    ``real_b``) and ``b2a``, measures ``psnr`` (dB), ``ssim`` and ``color``
    (ΔE, lower is better).
    """

    default_prefix: Optional[str] = 'paired'

    def __init__(self,
                 prefix: Optional[str] = 'paired',
                 collect_device: str = 'cpu',
                 color_grid: int = 8) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.color_grid = check_int('color_grid', color_grid, 1)

    def _scores(self, pred: torch.Tensor, target: torch.Tensor,
                direction: str, suffix: str = '') -> dict:
        return {
            f'{direction}_psnr{suffix}': float(psnr(pred, target)[0]),
            f'{direction}_ssim{suffix}': float(ssim(pred, target)[0]),
            f'{direction}_color{suffix}':
            float(color_distance(pred, target, grid=self.color_grid)[0]),
        }

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Score every paired, valid sample of one batch."""
        for sample in data_samples:
            if not (sample_flag(sample_field(sample, 'paired'), False)
                    and sample_flag(sample_field(sample, 'valid_a'), False)
                    and sample_flag(sample_field(sample, 'valid_b'), False)):
                continue
            images = {}
            for key in ('real_a', 'real_b', 'fake_a', 'fake_b'):
                value = sample_field(sample, key)
                if value is None:
                    raise KeyError(f'paired sample has no {key!r}; '
                                   'the model must output real_a, real_b, '
                                   'fake_a and fake_b')
                images[key] = _unit(value, key)
            real_a, real_b = images['real_a'], images['real_b']
            result = self._scores(images['fake_b'], real_b, 'a2b')
            result.update(self._scores(real_a, real_b, 'a2b', '_identity'))
            result.update(self._scores(images['fake_a'], real_a, 'b2a'))
            result.update(self._scores(real_b, real_a, 'b2a', '_identity'))
            self.results.append(result)

    def compute_metrics(self, results: list) -> dict:
        """Mean of every score over the paired samples."""
        if not results:
            print_log(
                'PairedTranslationMetric saw no paired samples (the test '
                'split must render the same scene in both domains); '
                'returning no metrics.',
                logger='current',
                level=logging.WARNING)
            return {}
        keys = [f'{d}_{m}{suffix}' for d in _DIRECTIONS for m in _MEASURES
                for suffix in ('', '_identity')]
        return {
            key: sum(r[key] for r in results) / len(results)
            for key in keys
        }


def _get(metrics: Mapping, key: str) -> Optional[float]:
    for name, value in metrics.items():
        if name == key or name.endswith('/' + key):
            return float(value)
    return None


def _cell(value: Optional[float], fmt: str, width: int) -> str:
    if value is None or math.isnan(value):
        return 'n/a'.rjust(width)
    return format(value, fmt).rjust(width)


def format_metric_table(metrics: Mapping) -> str:
    """A fixed-width text table of the paired metrics.

    Accepts the dict from :meth:`PairedTranslationMetric.compute_metrics`
    with or without a ``prefix/`` on the keys. Rows are the directions;
    ``gain`` is model minus identity PSNR. Missing values show as ``n/a``.
    """
    columns = (('PSNR', 7, '.2f'), ('ident', 7, '.2f'), ('gain', 7, '+.2f'),
               ('SSIM', 7, '.3f'), ('ident', 7, '.3f'), ('colour', 7,
                                                         '.2f'),
               ('ident', 7, '.2f'))
    header = 'dir  ' + ' '.join(name.rjust(w) for name, w, _ in columns)
    lines = [
        'paired metrics: PSNR dB and SSIM higher is better, colour '
        '(ΔE) lower;', 'ident = identity baseline (input vs. target)',
        header, '-' * len(header)
    ]
    for direction in _DIRECTIONS:
        p = _get(metrics, f'{direction}_psnr')
        pi = _get(metrics, f'{direction}_psnr_identity')
        gain = None if p is None or pi is None else p - pi
        values = (p, pi, gain, _get(metrics, f'{direction}_ssim'),
                  _get(metrics, f'{direction}_ssim_identity'),
                  _get(metrics, f'{direction}_color'),
                  _get(metrics, f'{direction}_color_identity'))
        cells = [
            _cell(v, fmt, w) for v, (_, w, fmt) in zip(values, columns)
        ]
        lines.append(f'{direction}  ' + ' '.join(cells))
    return '\n'.join(lines)
