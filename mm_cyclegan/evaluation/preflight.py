"""Start-up checks of the evaluation, for ``tools/train.py``."""
from __future__ import annotations

import glob
import logging
import os.path as osp
from collections.abc import Mapping
from typing import Any, Iterator, Optional

from mmengine.logging import print_log

from .inception import InceptionWeightsMissing, find_inception_weights

__all__ = ['preflight_evaluation', 'preflight_inception']

_FOLDER_DATASETS = ('UnpairedImageDataset',
                    'mm_cyclegan.UnpairedImageDataset')

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


def _missing_test_folders(loader: Any) -> list[str]:
    """Image folders of a folder-dataset loader that are absent or empty."""
    dataset = (loader or {}).get('dataset') or {}
    if dataset.get('type') not in _FOLDER_DATASETS:
        return []
    root, split = str(dataset.get('data_root')), dataset.get('split', 'test')
    missing = []
    for domain in ('a', 'b'):
        folder = osp.join(root, dataset.get(f'folder_{domain}')
                          or f'{split}{domain.upper()}')
        if not glob.glob(osp.join(folder, '*')):
            missing.append(folder)
    return missing


def preflight_evaluation(cfg: Any) -> Optional[str]:
    """Make the evaluation of ``cfg`` start cleanly, before the runner.

    * Recipes evaluate on ``testA``/``testB`` *when present*: if a val or
      test loader's folders are absent or empty, that evaluation is
      switched off in ``cfg`` with one warning (a data set without a test
      split still trains).
    * Returns a message (the caller stops) when a ``TranslationMetric``
      that insists on FID cannot find the Inception weights; see
      :func:`preflight_inception`.
    """
    missing: list[str] = []
    stages = []
    for stage in ('val', 'test'):
        folders = _missing_test_folders(cfg.get(f'{stage}_dataloader'))
        if folders:
            stages.append(stage)
            missing += [f for f in folders if f not in missing]
            for key in ('dataloader', 'cfg', 'evaluator'):
                cfg[f'{stage}_{key}'] = None
    if stages:
        print_log(
            f'No test images ({", ".join(missing)} absent or empty): '
            f'{" and ".join(stages)} evaluation is off for this run. Put '
            'held-out images there to get FID/KID per direction.',
            logger='current', level=logging.WARNING)
    return preflight_inception(cfg)
