"""Renders fixed samples as translation grids during training."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from PIL import Image, ImageDraw, ImageFont
from torch.utils.data import default_collate

from mm_cyclegan.compat import runner_val_loop
from mm_cyclegan.registry import HOOKS
from mm_cyclegan.utils.validation import check_int

from .fixed_batch import translate_fixed_batch

COLUMN_LABELS = ('real', 'translated', 'reconstructed')


def _to_uint8_rgb(image: torch.Tensor) -> np.ndarray:
    """(C,H,W) in [-1,1] -> (H,W,3) uint8; one channel is repeated."""
    image = image.detach().float().cpu().clamp(-1, 1)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    array = ((image + 1) * 127.5).round().to(torch.uint8)
    return array.permute(1, 2, 0).numpy()


def _font(size: int) -> Any:
    """Pillow's built-in font (a scalable one from Pillow 10.1 on)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow: fixed-size bitmap font
        return ImageFont.load_default()


def _label(grid: np.ndarray, column_labels: Sequence[str],
           row_labels: Sequence[str], tile: tuple[int, int],
           gap: int) -> np.ndarray:
    """Add a header row of column labels and a left column of row labels."""
    font = _font(max(12, min(24, tile[0] // 10)))
    probe = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    # Ink box of each text: (left, top, right, bottom) relative to its origin.
    boxes = {t: tuple(int(v) for v in probe.textbbox((0, 0), t, font=font))
             for t in list(column_labels) + list(row_labels)}
    line = max([b[3] - b[1] for b in boxes.values()] + [1])
    pad = 8
    top = line + 2 * pad if column_labels else 0
    left = (max(boxes[t][2] - boxes[t][0] for t in row_labels) + 2 * pad
            if row_labels else 0)
    canvas = Image.new('RGB', (grid.shape[1] + left, grid.shape[0] + top),
                       (255, 255, 255))
    canvas.paste(Image.fromarray(grid), (left, top))
    draw = ImageDraw.Draw(canvas)

    def put(text: str, x: int, y: int) -> None:
        """Draw ``text`` with its ink box's top-left corner at (x, y)."""
        box = boxes[text]
        draw.text((x - box[0], y - box[1]), text, fill=(0, 0, 0), font=font)

    height, width = tile
    for c, text in enumerate(column_labels):
        text_width = boxes[text][2] - boxes[text][0]
        put(text, left + c * (width + gap) + (width - text_width) // 2, pad)
    for r, text in enumerate(row_labels):
        put(text, pad, top + r * (height + gap) + (height - line) // 2)
    return np.asarray(canvas)


def make_translation_grid(rows: list[list[torch.Tensor]],
                          gap: int = 2,
                          min_tile_size: int = 0,
                          column_labels: Sequence[str] = (),
                          row_labels: Sequence[str] = ()) -> np.ndarray:
    """Tile rows of (C,H,W) images into one uint8 RGB grid with white gaps.

    Tiles whose shorter side is below ``min_tile_size`` are enlarged by the
    smallest integer factor that reaches it, nearest-neighbour (every
    pixel becomes a block: nothing is smoothed away or invented). Labels,
    when given, go above the columns and left of the rows.
    """
    tiles = [[_to_uint8_rgb(t) for t in row] for row in rows]
    height = max(t.shape[0] for row in tiles for t in row)
    width = max(t.shape[1] for row in tiles for t in row)
    factor = max(1, math.ceil(min_tile_size / max(1, min(height, width))))
    if factor > 1:
        tiles = [[t.repeat(factor, axis=0).repeat(factor, axis=1)
                  for t in row] for row in tiles]
        height, width = height * factor, width * factor
    ncols = max(len(row) for row in tiles)
    grid = np.full(((height + gap) * len(tiles) - gap,
                    (width + gap) * ncols - gap, 3), 255, np.uint8)
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            y, x = r * (height + gap), c * (width + gap)
            grid[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    if column_labels or row_labels:
        grid = _label(grid, column_labels, row_labels, (height, width), gap)
    return grid


@HOOKS.register_module()
class TranslationVisualizationHook(Hook):
    """Every ``interval`` iterations, translate fixed samples and show them.

    For each sample the grid has the row ``real a | fake b | reconstructed a``
    and the row ``real b | fake a | reconstructed b``; the columns are
    labelled ``real``, ``translated``, ``reconstructed`` and the rows with
    their direction (``a -> b``, ``b -> a``) and sample number. Tiles
    smaller than ``min_tile_size`` are enlarged (nearest-neighbour, integer
    factor) so that a 64 px run still gives grids one can judge by eye.
    The grid goes to the
    runner's visualizer, so every configured backend gets it: PNG files with
    ``LocalVisBackend`` (``<work_dir>/<timestamp>/vis_data/vis_image/``) and
    images in the event file with ``TensorboardVisBackend``.

    Args:
        interval: Iterations between grids; a grid is also drawn after the
            last iteration.
        num_samples: Fixed samples drawn from the validation set (the
            training set when there is none), indices ``0..num_samples-1``.
        name: Image name in the visualizer.
        min_tile_size: Smallest tile side in the grid, in pixels; ``0``
            keeps the images' own size.
        labels: Draw the column and row labels.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, num_samples: int = 4,
                 name: str = 'translation', min_tile_size: int = 192,
                 labels: bool = True) -> None:
        check_int('interval', interval, minimum=1)
        check_int('num_samples', num_samples, minimum=1)
        check_int('min_tile_size', min_tile_size, minimum=0)
        self.interval = interval
        self.num_samples = num_samples
        self.name = name
        self.min_tile_size = min_tile_size
        self.labels = bool(labels)
        self._batch: Optional[dict] = None

    def before_train(self, runner) -> None:
        """Pick the fixed samples once."""
        loop = runner_val_loop(runner)
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
        out = translate_fixed_batch(runner, self._batch, reconstruct=True)
        real_a, real_b = out['real_a'], out['real_b']
        fake_a, fake_b = out['fake_a'], out['fake_b']
        rec_a, rec_b = out['rec_a'], out['rec_b']
        rows, row_labels = [], []
        for i in range(real_a.shape[0]):
            rows.append([real_a[i], fake_b[i], rec_a[i]])
            rows.append([real_b[i], fake_a[i], rec_b[i]])
            row_labels += [f'#{i + 1} a -> b', f'#{i + 1} b -> a']
        grid = make_translation_grid(
            rows, min_tile_size=self.min_tile_size,
            column_labels=COLUMN_LABELS if self.labels else (),
            row_labels=row_labels if self.labels else ())
        runner.visualizer.add_image(self.name, grid, step=step)
        return grid
