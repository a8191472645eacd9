"""The photo style: muted natural palette, smooth shading, texture, blur."""
from __future__ import annotations

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
    rasterize,
)
from .scene import Scene

__all__ = ['photo_palette', 'render_photo']

# Relative texture strength per label (multiplies luminance).
_TEXTURE = np.zeros(NUM_LABELS, np.float32)
_TEXTURE[[SKY, SUN, CLOUD]] = (0.015, 0.0, 0.04)
_TEXTURE[MOUNTAIN:MOUNTAIN + 3] = 0.09
_TEXTURE[[GROUND, WATER, TRUNK, CANOPY]] = (0.11, 0.07, 0.08, 0.11)
# Stream ids of the photo's own random draws (the scene has its own).
_NOISE_STREAM = 1


def photo_palette(colors: np.ndarray) -> np.ndarray:
    """Mute base colours: less saturation, compressed contrast, warm haze."""
    colors = np.asarray(colors, np.float64)
    luma = colors @ np.array([0.299, 0.587, 0.114])
    muted = luma[..., None] + 0.55 * (colors - luma[..., None])
    muted = 0.42 + 0.9 * (muted - 0.42)
    return np.clip(muted + np.array([0.015, 0.01, -0.01]), 0.0, 1.0)


def render_photo(scene: Scene, size: Size,
                 raster: Raster | None = None) -> np.ndarray:
    """Render ``scene`` as a 'photo': uint8 ``(H, W, 3)`` RGB.

    ``raster`` may pass a precomputed :func:`rasterize` result of the same
    scene and size.
    """
    if raster is None:
        raster = rasterize(scene, size)
    labels, shade = raster.labels, raster.shade
    height, width = labels.shape
    low, high = base_ramps(scene)
    low = photo_palette(low).astype(np.float32)
    high = photo_palette(high).astype(np.float32)
    s = shade[..., None]
    image = low[labels] * (1.0 - s) + high[labels] * s

    glow_color = photo_palette(np.asarray(scene.glow_color)).astype(
        np.float32)
    weight = 0.6 * raster.glow[..., None]
    image += weight * (glow_color - image)

    rng = np.random.default_rng([scene.seed, _NOISE_STREAM])
    grain = fractal_noise(rng, (height, width), cells=(6, 6), octaves=5)
    ripple = fractal_noise(rng, (height, width), cells=(12, 2), octaves=3)
    texture = np.where(labels == WATER, ripple, grain)
    image *= 1.0 + (_TEXTURE[labels] * texture)[..., None]

    sigma = 0.5 * min(height, width) / 64
    image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
