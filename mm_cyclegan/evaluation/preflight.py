"""Start-up check of the FID/KID weights, for ``tools/train.py``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator, Optional

from .inception import InceptionWeightsMissing, find_inception_weights

__all__ = ['preflight_inception']

_NAMES = ('TranslationMetric', 'mm_cyclegan.TranslationMetric')


def _metric_cfgs(evaluator: Any) -> Iterator[Mapping]:
    if isinstance(evaluator, Mapping):
        if 'metrics' in evaluator:
            yield from _metric_cfgs(evaluator['metrics'])
        else:
            yield evaluator
    elif isinstance(evaluator, (list, tuple)):
        for item in evaluator:
            yield from _metric_cfgs(item)


def preflight_inception(cfg: Any) -> Optional[str]:
    """A message when a ``TranslationMetric`` of ``cfg`` cannot start.

    Checked before the runner is built, so a run that would evaluate FID
    fails in seconds rather than at its first evaluation. Only metrics with
    ``missing_weights='error'`` (the default) stop the run; with
    ``'fallback'`` the metric itself warns once when it is built (before
    the first training iteration) and evaluates without FID/KID.
    """
    for key in ('val_evaluator', 'test_evaluator'):
        for metric in _metric_cfgs(cfg.get(key)):
            if metric.get('type') not in _NAMES:
                continue
            if metric.get('missing_weights', 'error') != 'error':
                continue
            try:
                find_inception_weights(metric.get('inception_weights'))
            except InceptionWeightsMissing as error:
                return (f'{key} needs FID/KID: {error}\n  Or evaluate '
                        'without FID/KID: set missing_weights="fallback" '
                        'in the TranslationMetric config.')
    return None
