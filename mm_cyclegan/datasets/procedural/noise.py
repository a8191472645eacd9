"""Fractal value noise for the photo renderer's texture.

The noise is a sum of octaves, each a coarse grid of Gaussian values
upsampled with bicubic interpolation. Grid sizes are counted in cells across
the image, not in pixels, so the same generator state gives the same pattern
at every output size (larger sizes only add the octaves that would alias at
small ones).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ['fractal_noise']


def fractal_noise(rng: np.random.Generator,
                  shape: tuple[int, int],
                  cells: tuple[int, int] = (4, 4),
                  octaves: int = 4,
                  persistence: float = 0.5) -> np.ndarray:
    """Return float32 noise of ``shape`` with roughly unit spread.

    Args:
        rng: The generator to draw grid values from (consumed).
        shape: ``(height, width)`` of the result.
        cells: Grid cells ``(rows, cols)`` of the coarsest octave; unequal
            values give stretched noise (e.g. ripples on water).
        octaves: Number of octaves; each doubles the cell count. Octaves
            finer than two pixels per cell are left out (they would alias);
            since they come last, the coarser ones stay the same.
        persistence: Amplitude ratio between successive octaves.
    """
    height, width = shape
    out = np.zeros((height, width), np.float32)
    rows, cols = cells
    amplitude = 1.0
    total = 0.0
    for _ in range(octaves):
        if 2 * rows > height or 2 * cols > width:
            break  # finer octaves would alias; coarser ones are unchanged
        grid = rng.standard_normal((rows + 1, cols + 1)).astype(np.float32)
        out += amplitude * cv2.resize(
            grid, (width, height), interpolation=cv2.INTER_CUBIC)
        total += amplitude * amplitude
        amplitude *= persistence
        rows *= 2
        cols *= 2
    if total > 0:
        out /= math.sqrt(total)
    return out
