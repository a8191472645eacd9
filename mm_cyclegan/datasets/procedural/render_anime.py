"""The anime style: saturated flat palette, banded sky, cel shading, ink."""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from .raster import (
    CANOPY,
    CLOUD,
    GROUND,
    MOUNTAIN,
    NUM_LABELS,
    TONE_LEVELS,
    TRUNK,
    WATER,
    Raster,
    Size,
    base_ramps,
    downsample,
    raster_for,
)
from .scene import Scene

__all__ = ['anime_palette', 'outline_mask', 'render_anime']

_OUTLINED = np.zeros(NUM_LABELS, bool)
_OUTLINED[MOUNTAIN:MOUNTAIN + 3] = True
_OUTLINED[[GROUND, WATER, TRUNK, CANOPY]] = True
_INK = np.array([0.10, 0.08, 0.16], np.float32)
_INK_WEIGHT = 0.45
_SHADOW_HUE = np.array([0.30, 0.25, 0.60])
_LUMA = np.array([0.299, 0.587, 0.114])


def anime_palette(colors: np.ndarray) -> np.ndarray:
    """Saturate and brighten base colours (flat cel palette)."""
    colors = np.asarray(colors, np.float64)
    luma = colors @ _LUMA
    vivid = luma[..., None] + 1.8 * (colors - luma[..., None])
    return np.clip(0.08 + 1.02 * vivid, 0.0, 1.0)


def outline_mask(labels: np.ndarray) -> np.ndarray:
    """Pixels on the near side of a border between outlined regions.

    A pixel is ink when a label farther away (smaller) lies within the line
    width along a row or column; the width is 1 px per 64 px of the map's
    shorter side (so one output pixel at 64 px, as the map is drawn at
    twice the output size). This is a fixed local function of the region
    map, so a network can learn where lines go from region edges alone.
    """
    width = max(1, int(round(min(labels.shape) / 64)))
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS,
                                       (2 * width + 1, 2 * width + 1))
    nearest_far = cv2.erode(labels, kernel, borderType=cv2.BORDER_REPLICATE)
    return (nearest_far < labels) & _OUTLINED[labels]


def render_anime(scene: Scene, size: Size,
                 raster: Optional[Raster] = None) -> np.ndarray:
    """Render ``scene`` in the anime style: uint8 ``(H, W, 3)`` RGB.

    ``size`` is an int or ``(height, width)``. ``raster`` may pass a
    precomputed ``rasterize(scene, render_size(size))`` of the same scene.
    """
    raster = raster_for(scene, size, raster)
    labels, shade = raster.labels, raster.shade
    low, high = base_ramps(scene)
    # Shadows lean toward blue-violet, as in painted backgrounds.
    luma = low[CLOUD:] @ _LUMA
    shadow = _SHADOW_HUE * (luma / (_SHADOW_HUE @ _LUMA))[:, None]
    low[CLOUD:] = 0.8 * low[CLOUD:] + 0.2 * shadow
    low = anime_palette(low).astype(np.float32)
    high = anime_palette(high).astype(np.float32)

    # Every pixel is one of few flat colours: index a small table by
    # (label, tone, inside the halo, on a line) instead of blending images.
    max_levels = int(TONE_LEVELS.max())
    tones = np.arange(max_levels, dtype=np.float32)
    steps = np.maximum(TONE_LEVELS - 1, 1).astype(np.float32)
    t = np.where(TONE_LEVELS[:, None] == 1, 0.5, tones[None, :] /
                 steps[:, None])[..., None]  # flat labels: the ramp middle
    table = low[:, None] * (1 - t) + high[:, None] * t  # (L, levels, 3)
    glow_color = anime_palette(np.asarray(scene.glow_color))
    table = np.stack([table, 0.5 * table + 0.5 * glow_color], axis=2)
    table = np.stack([table, (1 - _INK_WEIGHT) * table + _INK_WEIGHT * _INK],
                     axis=3).astype(np.float32).reshape(-1, 3)

    levels = TONE_LEVELS[labels]
    tone = np.minimum((shade * levels).astype(np.int64), levels - 1)
    halo = raster.glow >= 0.5
    ink = outline_mask(labels)
    index = ((labels.astype(np.int64) * max_levels + tone) * 2 + halo) * 2
    image = table[index + ink]
    image = downsample(image, size)
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
