"""The photo style: muted natural palette, smooth shading, texture, blur."""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from .noise import fractal_noise
from .raster import (
    CANOPY,
    CLOUD,
    GROUND,
    MOUNTAIN,
    NUM_LABELS,
    SKY,
    SUN,
    TRUNK,
    WATER,
    Raster,
    Size,
    base_ramps,
    downsample,
    raster_for,
)
from .scene import Scene

__all__ = ['photo_palette', 'render_photo']

# Relative texture strength per label (multiplies luminance).
_TEXTURE = np.zeros(NUM_LABELS, np.float32)
_TEXTURE[[SKY, SUN, CLOUD]] = (0.01, 0.0, 0.02)
_TEXTURE[MOUNTAIN:MOUNTAIN + 3] = 0.045
_TEXTURE[[GROUND, WATER, TRUNK, CANOPY]] = (0.055, 0.04, 0.04, 0.055)
# Stream ids of the photo's own random draws (the scene has its own).
_GRAIN_STREAM, _RIPPLE_STREAM = 1, 2


def photo_palette(colors: np.ndarray) -> np.ndarray:
    """Mute base colours: less saturation, compressed contrast, warm haze."""
    colors = np.asarray(colors, np.float64)
    luma = colors @ np.array([0.299, 0.587, 0.114])
    muted = luma[..., None] + 0.55 * (colors - luma[..., None])
    muted = 0.42 + 0.7 * (muted - 0.42)
    return np.clip(muted + np.array([0.015, 0.01, -0.01]), 0.0, 1.0)


def render_photo(scene: Scene, size: Size,
                 raster: Optional[Raster] = None) -> np.ndarray:
    """Render ``scene`` as a 'photo': uint8 ``(H, W, 3)`` RGB.

    ``size`` is an int or ``(height, width)``. ``raster`` may pass a
    precomputed ``rasterize(scene, render_size(size))`` of the same scene.
    """
    raster = raster_for(scene, size, raster)
    labels, shade = raster.labels, raster.shade
    height, width = labels.shape
    low, high = base_ramps(scene)
    low = photo_palette(low).astype(np.float32)
    high = photo_palette(high).astype(np.float32)
    image = low[labels]
    image += (high - low)[labels] * shade[..., None]

    glow_color = photo_palette(np.asarray(scene.glow_color)).astype(
        np.float32)
    weight = 0.6 * raster.glow[..., None]
    image += weight * (glow_color - image)

    # Separate streams: each noise field is then independent of the size.
    texture = fractal_noise(
        np.random.default_rng([scene.seed, _GRAIN_STREAM]), (height, width),
        cells=(6, 6), octaves=5)
    water = labels == WATER
    if water.any():
        ripple = fractal_noise(
            np.random.default_rng([scene.seed, _RIPPLE_STREAM]),
            (height, width), cells=(12, 2), octaves=3)
        texture[water] = ripple[water]
    texture *= _TEXTURE[labels]
    texture += 1.0
    image *= texture[..., None]

    # Half a pixel of blur at 64 px output (scaled with the size).
    sigma = 0.5 * min(height, width) / 64
    image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
    image = downsample(image, size)
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
