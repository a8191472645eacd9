"""Write the translated test images to a folder (``tools/test.py --out``)."""
from __future__ import annotations

import os
import os.path as osp
from collections.abc import Mapping
from typing import Any, Optional, Sequence

from mmengine.evaluator import BaseMetric
from PIL import Image

from mm_cyclegan.registry import METRICS

from .samples import sample_field, sample_flag
from .translation_metric import to_uint8

__all__ = ['TranslationImageWriter', 'add_image_writer']


@METRICS.register_module()
class TranslationImageWriter(BaseMetric):
    """An evaluator entry that saves outputs instead of scoring them.

    ``G_a2b(real_a)`` of every valid ``a`` image goes to
    ``<out_dir>/a2b/<input name>.png`` and ``G_b2a(real_b)`` to
    ``<out_dir>/b2a/``; 8-bit PNG, the input's name with its extension
    replaced (a numeric suffix is added if two inputs share a name).
    Returns no metrics.
    """

    # It returns no metric names to prefix ('' keeps MMEngine from warning
    # that the prefix is not set).
    default_prefix: Optional[str] = ''

    def __init__(self, out_dir: str, collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not out_dir:
            raise ValueError(f'out_dir must be a folder path, got '
                             f'{out_dir!r}')
        self.out_dir = str(out_dir)
        self._used: set = set()

    def _name(self, direction: str, path: Any, index: Any) -> str:
        stem = (osp.splitext(osp.basename(str(path)))[0]
                if path is not None else f'{int(index or 0):06d}')
        name, suffix = stem, 1
        while (direction, name) in self._used:
            name, suffix = f'{stem}_{suffix}', suffix + 1
        self._used.add((direction, name))
        return osp.join(self.out_dir, direction, name + '.png')

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Save the outputs of the valid samples of one batch."""
        for sample in data_samples:
            for direction, source, key in (('a2b', 'a', 'fake_b'),
                                           ('b2a', 'b', 'fake_a')):
                image = sample_field(sample, key)
                if image is None or not sample_flag(
                        sample_field(sample, f'valid_{source}')):
                    continue
                path = self._name(direction, sample_field(sample,
                                                    f'path_{source}'),
                                  sample_field(sample, f'index_{source}'))
                os.makedirs(osp.dirname(path), exist_ok=True)
                array = to_uint8(image).permute(1, 2, 0).numpy()
                if array.shape[2] == 1:
                    array = array[..., 0]
                Image.fromarray(array).save(path)

    def compute_metrics(self, results: list) -> dict:
        """Nothing to score; the files are the result."""
        self._used.clear()
        return {}

    def evaluate(self, size: int) -> dict:
        """Nothing to gather across processes: each wrote its own files.

        MMEngine's ``evaluate`` would warn that ``self.results`` is empty
        (the images were written; there are no results to keep).
        """
        self.results.clear()
        return self.compute_metrics([])


def add_image_writer(cfg: Any, out_dir: Optional[str]) -> None:
    """Append a :class:`TranslationImageWriter` to ``cfg.test_evaluator``.

    No-op when ``out_dir`` is empty. ``test_evaluator`` may be one metric
    config, a list of them, or an ``Evaluator`` config with ``metrics``.
    """
    if not out_dir:
        return
    writer = dict(type='mm_cyclegan.TranslationImageWriter',
                  out_dir=str(out_dir))
    evaluator = cfg.get('test_evaluator')
    if evaluator is None:
        cfg.test_evaluator = [writer]
    elif isinstance(evaluator, Mapping) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        metrics = list(metrics) if isinstance(metrics, (list, tuple)) \
            else [metrics]
        evaluator['metrics'] = metrics + [writer]  # type: ignore[index]
    elif isinstance(evaluator, Mapping):
        cfg.test_evaluator = [evaluator, writer]
    else:
        cfg.test_evaluator = list(evaluator) + [writer]
