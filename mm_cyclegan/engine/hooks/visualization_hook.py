"""Renders fixed samples as translation grids during training."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import default_collate

from mm_cyclegan.registry import HOOKS


def _to_uint8_rgb(image: torch.Tensor) -> np.ndarray:
    """(C,H,W) in [-1,1] -> (H,W,3) uint8; one channel is repeated."""
    image = image.detach().float().cpu().clamp(-1, 1)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    array = ((image + 1) * 127.5).round().to(torch.uint8)
    return array.permute(1, 2, 0).numpy()


def make_translation_grid(rows: list[list[torch.Tensor]],
                          gap: int = 2) -> np.ndarray:
    """Tile rows of (C,H,W) images into one uint8 RGB grid with white gaps."""
    tiles = [[_to_uint8_rgb(t) for t in row] for row in rows]
    height = max(t.shape[0] for row in tiles for t in row)
    width = max(t.shape[1] for row in tiles for t in row)
    ncols = max(len(row) for row in tiles)
    grid = np.full(((height + gap) * len(tiles) - gap,
                    (width + gap) * ncols - gap, 3), 255, np.uint8)
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            y, x = r * (height + gap), c * (width + gap)
            grid[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    return grid


@HOOKS.register_module()
class TranslationVisualizationHook(Hook):
    """Every ``interval`` iterations, translate fixed samples and show them.

    For each sample the grid has the row ``real a | fake b | reconstructed a``
    and the row ``real b | fake a | reconstructed b``. The grid goes to the
    runner's visualizer, so every configured backend gets it: PNG files with
    ``LocalVisBackend`` (``<work_dir>/<timestamp>/vis_data/vis_image/``) and
    images in the event file with ``TensorboardVisBackend``.

    Args:
        interval: Iterations between grids; a grid is also drawn after the
            last iteration.
        num_samples: Fixed samples drawn from the validation set (the
            training set when there is none), indices ``0..num_samples-1``.
        name: Image name in the visualizer.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, num_samples: int = 4,
                 name: str = 'translation') -> None:
        if interval <= 0:
            raise ValueError(f'interval must be positive, got {interval}')
        if num_samples <= 0:
            raise ValueError(
                f'num_samples must be positive, got {num_samples}')
        self.interval = interval
        self.num_samples = num_samples
        self.name = name
        self._batch: Optional[dict] = None

    def before_train(self, runner) -> None:
        """Pick the fixed samples once."""
        loop = getattr(runner, '_val_loop', None)
        dataloader = getattr(loop, 'dataloader', None)
        if dataloader is None or not hasattr(dataloader, 'dataset'):
            dataloader = runner.train_dataloader
        dataset = dataloader.dataset
        count = min(self.num_samples, len(dataset))
        self._batch = default_collate([dataset[i] for i in range(count)])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Draw the grid on schedule."""
        if self._batch is None:
            return
        if (self.every_n_train_iters(runner, self.interval)
                or self.is_last_train_iter(runner)):
            self.draw(runner, step=runner.iter + 1)

    def draw(self, runner, step: int) -> np.ndarray:
        """Translate the fixed samples and send the grid to the visualizer."""
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        was_training = model.training
        model.eval()
        try:
            data = model.data_preprocessor(self._batch, False)
            with torch.no_grad():
                real_a, real_b = data['img_a'], data['img_b']
                fake_b = model.translate(real_a, 'a2b')
                fake_a = model.translate(real_b, 'b2a')
                rec_a = model.translate(fake_b, 'b2a')
                rec_b = model.translate(fake_a, 'a2b')
        finally:
            model.train(was_training)
        rows = []
        for i in range(real_a.shape[0]):
            rows.append([real_a[i], fake_b[i], rec_a[i]])
            rows.append([real_b[i], fake_a[i], rec_b[i]])
        grid = make_translation_grid(rows)
        runner.visualizer.add_image(self.name, grid, step=step)
        return grid
