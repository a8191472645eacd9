"""Rasterise a :class:`Scene` into what both renderers share.

:func:`rasterize` returns the region map (one label per pixel), a smooth
shading field in [0, 1] and the sun's glow. The photo renderer turns shading
into a smooth colour ramp; the anime renderer quantises the *same* field into
flat tones and outlines the *same* region borders. Because every stylistic
difference is a local function of these shared fields, each style can be
predicted from the other (which is what makes the pair learnable).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import cv2
import numpy as np

from .scene import Scene

__all__ = [
    'CANOPY', 'CLOUD', 'GROUND', 'LABEL_NAMES', 'MOUNTAIN', 'NUM_LABELS',
    'Raster', 'SKY', 'SUN', 'TONE_LEVELS', 'TRUNK', 'WATER', 'base_ramps',
    'SUPERSAMPLE', 'downsample', 'parse_size', 'raster_for', 'rasterize',
    'render_size', 'soft_steps'
]

# Labels are ordered far to near: a border belongs to the nearer region.
SKY, SUN, CLOUD = 0, 1, 2
MOUNTAIN = 3  # 3, 4, 5 for up to three ridges, far to near
GROUND, WATER, TRUNK, CANOPY = 6, 7, 8, 9
NUM_LABELS = 10
LABEL_NAMES = ('sky', 'sun', 'cloud', 'mountain0', 'mountain1', 'mountain2',
               'ground', 'water', 'trunk', 'canopy')
# Flat tones per label in the anime style: the sky is banded, the sun flat,
# everything else two-tone. The shading field is shaped to match (below).
TONE_LEVELS = np.full(NUM_LABELS, 2, np.int64)
TONE_LEVELS[SKY] = 4
TONE_LEVELS[SUN] = 1
# How sharply the shading steps at tone borders (see ``soft_steps``).
STEP_SHARPNESS = 3.0

Size = Union[int, tuple[int, int]]

# Both styles are drawn at this many times the output size and then
# area-averaged: edges and outlines come out anti-aliased, as in real
# frames scaled down, instead of snapping to whole pixels. Hard one-pixel
# steps are what a convolutional generator reproduces worst.
SUPERSAMPLE = 2


@dataclass
class Raster:
    """Per-pixel fields of one scene at one size (all ``(H, W)``)."""

    labels: np.ndarray  # uint8 region labels
    shade: np.ndarray  # float32 in [0, 1]; 0 = shadow / sky top
    glow: np.ndarray  # float32 in [0, 1]; the sun's halo (sky only)


def parse_size(size: Size) -> tuple[int, int]:
    """Return ``(height, width)`` from an int or a pair of positive ints."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        height = width = int(size)
    elif (isinstance(size, (tuple, list)) and len(size) == 2
          and all(isinstance(s, (int, np.integer)) for s in size)):
        height, width = int(size[0]), int(size[1])
    else:
        raise TypeError(f'size must be an int or (height, width), got '
                        f'{size!r}')
    if height < 8 or width < 8:
        raise ValueError(f'size must be at least 8 pixels, got {size!r}')
    return height, width


def soft_steps(field: np.ndarray, levels: np.ndarray | int,
               sharpness: float = STEP_SHARPNESS) -> np.ndarray:
    """Reshape a field in [0, 1] into a smooth staircase of ``levels`` steps.

    The result is monotonic, crosses every tone border ``k / levels`` exactly
    where ``field`` does, and is steepest there and flattest in between. The
    anime renderer's quantisation is therefore unchanged, while the photo's
    smooth shading gets a visible (soft) transition wherever the anime has a
    tone border: the cue a network needs to place that border from the photo
    alone, without measuring absolute brightness.
    """
    levels = np.asarray(levels)
    field = np.asarray(field, np.float32)
    scale = levels.astype(np.float32)
    u = field * scale - np.float32(0.5)
    k = np.floor(u)
    frac = u - k
    gain = np.float32(0.5 / np.tanh(sharpness / 2))
    step = np.tanh(np.float32(sharpness) * (frac - np.float32(0.5)))
    out = (k + np.float32(1.0) + gain * step) / np.maximum(scale, 1)
    out = np.where(levels <= 1, field, out)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def render_size(size: Size) -> tuple[int, int]:
    """``(height, width)`` at which the renderers draw an image of ``size``.
    """
    height, width = parse_size(size)
    return height * SUPERSAMPLE, width * SUPERSAMPLE


def raster_for(scene: Scene, size: Size,
               raster: Optional[Raster] = None) -> Raster:
    """The raster to draw ``scene`` at output ``size`` from.

    Rasterises at :func:`render_size` unless ``raster`` is given, which must
    then have that size (pass it to render both styles from one raster).
    """
    expected = render_size(size)
    if raster is None:
        return rasterize(scene, expected)
    if raster.labels.shape != expected:
        raise ValueError(
            f'raster has size {raster.labels.shape}, but output size '
            f'{size!r} is drawn at {expected}: use '
            f'rasterize(scene, render_size({size!r}))')
    return raster


def downsample(image: np.ndarray, size: Size) -> np.ndarray:
    """Area-average a float ``(H, W, 3)`` drawing to the output ``size``."""
    height, width = parse_size(size)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _ellipse(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, rx: float,
             ry: float) -> np.ndarray:
    return ((xx - cx) / rx)**2 + ((yy - cy) / ry)**2 <= 1.0


def _box(height: int, width: int, x0: float, x1: float, y0: float,
         y1: float) -> tuple[slice, slice]:
    """Pixel slices covering the fractional box (clipped to the image)."""
    r0 = max(0, int(np.floor(y0 * height)))
    r1 = min(height, int(np.ceil(y1 * height)) + 1)
    c0 = max(0, int(np.floor(x0 * width)))
    c1 = min(width, int(np.ceil(x1 * width)) + 1)
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _draw_mountains(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                    xs: np.ndarray, ys: np.ndarray) -> None:
    height, width = labels.shape
    light = scene.light_x
    ground = scene.ground_y(xs)
    # Smooth the slope over ~3 % of the width so faces shade smoothly.
    kernel = np.full(max(1, width // 32), 1.0 / max(1, width // 32))
    pad = len(kernel)
    for k, ridge in enumerate(scene.ridges):
        px, py = np.asarray(ridge).T
        top = np.interp(xs, px, py)
        slope = np.gradient(top, 1.0 / width)
        slope = np.convolve(np.pad(slope, pad, mode='edge'), kernel,
                            'same')[pad:-pad]
        # Only rows from the highest peak down can hold this mountain.
        first = max(0, int(np.floor(top.min() * height)))
        rows = ys[first:, None]
        inside = rows >= top[None, :]
        depth = (rows - top[None, :]) / np.maximum(ground - top,
                                                   1e-3)[None, :]
        # A face whose ridge descends toward the light faces it.
        lit = 0.5 + 0.45 * np.tanh(6.0 * slope * light)
        field = lit[None, :] + 0.08 * (0.5 - np.clip(depth, 0, 1))
        labels[first:][inside] = MOUNTAIN + k
        shade[first:][inside] = field[inside]


def _draw_trees(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                xs: np.ndarray, ys: np.ndarray) -> None:
    height, width = labels.shape
    light = scene.light_x
    for tree in scene.trees:
        half = tree.width / 2
        rows, cols = _box(height, width, tree.x - half,
                          tree.x + half, tree.base_y - tree.height,
                          tree.base_y)
        xx, yy = xs[None, cols], ys[rows, None]
        if tree.kind == 'pine':
            trunk_top = tree.base_y - 0.18 * tree.height
            apex = tree.base_y - tree.height
            frac = (yy - apex) / max(trunk_top - apex, 1e-6)
            canopy = (frac >= 0) & (frac <= 1) & (
                np.abs(xx - tree.x) <= half * frac)
        else:
            trunk_top = tree.base_y - 0.3 * tree.height
            cy = tree.base_y - 0.62 * tree.height
            canopy = _ellipse(xx, yy, tree.x, cy, half, 0.38 * tree.height)
        trunk_half = max(0.1 * half, 0.5 / width)
        trunk = ((np.abs(xx - tree.x) <= trunk_half) & (yy >= trunk_top - 0.02)
                 & (yy <= tree.base_y) & ~canopy)
        rel = np.broadcast_to(np.clip((xx - tree.x) / half, -1, 1),
                              canopy.shape)
        side = np.broadcast_to(np.where(xx >= tree.x, 1.0, -1.0),
                               trunk.shape)
        region_labels = labels[rows, cols]
        region_shade = shade[rows, cols]
        region_labels[trunk] = TRUNK
        region_shade[trunk] = 0.5 + 0.3 * light * side[trunk]
        region_labels[canopy] = CANOPY
        region_shade[canopy] = 0.5 + 0.45 * light * rel[canopy]


def _draw_celestial(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                    xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Draw the sun (or moon) disc; return its glow over the whole image.

    Distances are in shorter-side units. The glow is negligible (< 1e-3)
    beyond 3.8 sigma, so only a box is drawn.
    """
    height, width = labels.shape
    unit = min(height, width)
    cx, cy = scene.celestial_xy
    radius = scene.celestial_radius
    sigma = 2.2 * radius
    reach_x, reach_y = 3.8 * sigma * unit / width, 3.8 * sigma * unit / height
    rows, cols = _box(height, width, cx - reach_x, cx + reach_x,
                      cy - reach_y, cy + reach_y)
    dx = (xs[None, cols] - cx) * (width / unit)
    dy = (ys[rows, None] - cy) * (height / unit)
    dist2 = dx * dx + dy * dy
    glow = np.zeros((height, width), np.float32)
    glow[rows, cols] = np.exp(-dist2 / (2 * sigma * sigma))
    body = dist2 <= radius * radius
    labels[rows, cols][body] = SUN
    shade[rows, cols][body] = 1.0
    return glow


def _draw_clouds(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                 xs: np.ndarray, ys: np.ndarray) -> None:
    """Draw each cloud, a union of ellipses lit from above."""
    height, width = labels.shape
    for cloud in scene.clouds:
        ell = np.asarray(cloud.ellipses)
        x0 = (ell[:, 0] - ell[:, 2]).min()
        x1 = (ell[:, 0] + ell[:, 2]).max()
        y0 = (ell[:, 1] - ell[:, 3]).min()
        y1 = (ell[:, 1] + ell[:, 3]).max()
        rows, cols = _box(height, width, x0, x1, y0, y1)
        xx, yy = xs[None, cols], ys[rows, None]
        mask = np.zeros((len(ys[rows]), len(xs[cols])), bool)
        for ex, ey, rx, ry in cloud.ellipses:
            mask |= _ellipse(xx, yy, ex, ey, rx, ry)
        cloud_shade = np.broadcast_to(
            1.0 - 0.8 * (yy - y0) / max(y1 - y0, 1e-6), mask.shape)
        labels[rows, cols][mask] = CLOUD
        shade[rows, cols][mask] = cloud_shade[mask]


def _draw_ground(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                 xs: np.ndarray, ys: np.ndarray) -> None:
    """Draw the ground below the ground line."""
    height = labels.shape[0]
    ground = np.asarray(scene.ground_y(xs))
    first = max(0, int(np.floor(ground.min() * height)))
    ground_ys = ys[first:, None]
    below = ground_ys >= ground[None, :]
    depth = (ground_ys - ground[None, :]) / (1.0 - ground[None, :])
    # Ground lightens toward the horizon (haze), darkens toward the viewer.
    field = 0.9 - 0.75 * np.clip(depth, 0, 1)
    labels[first:][below] = GROUND
    shade[first:][below] = field[below]


def _draw_water(scene: Scene, labels: np.ndarray, shade: np.ndarray,
                xs: np.ndarray, ys: np.ndarray) -> None:
    """Draw the lake, if any, where its ellipse covers ground."""
    if scene.water is None:
        return
    height, width = labels.shape
    w = scene.water
    rows, cols = _box(height, width, w.cx - w.rx, w.cx + w.rx,
                      w.cy - w.ry, w.cy + w.ry)
    yy = ys[rows, None]
    lake = (labels[rows, cols] == GROUND) & _ellipse(
        xs[None, cols], yy, w.cx, w.cy, w.rx, w.ry)
    rel = (yy - (w.cy - w.ry)) / (2 * w.ry)
    field = np.broadcast_to(0.85 - 0.7 * np.clip(rel, 0, 1), lake.shape)
    labels[rows, cols][lake] = WATER
    shade[rows, cols][lake] = field[lake]


def rasterize(scene: Scene, size: Size) -> Raster:
    """Rasterise ``scene`` at ``size`` (an int or ``(height, width)``)."""
    height, width = parse_size(size)
    xs = ((np.arange(width) + 0.5) / width).astype(np.float32)
    ys = ((np.arange(height) + 0.5) / height).astype(np.float32)
    labels = np.full((height, width), SKY, np.uint8)
    # Sky shading runs from 0 at the top to 1 at the horizon.
    horizon = min(scene.ground_line)
    shade = np.empty((height, width), np.float32)
    shade[:] = np.clip(ys / horizon, 0, 1)[:, None]

    # Back to front: later layers paint over earlier ones.
    glow = _draw_celestial(scene, labels, shade, xs, ys)
    _draw_clouds(scene, labels, shade, xs, ys)
    _draw_mountains(scene, labels, shade, xs, ys)
    _draw_ground(scene, labels, shade, xs, ys)
    _draw_water(scene, labels, shade, xs, ys)
    _draw_trees(scene, labels, shade, xs, ys)
    glow[labels != SKY] = 0.0
    shade = soft_steps(np.clip(shade, 0.0, 1.0), TONE_LEVELS[labels])
    # The anime halo is the glow above one half; shape the glow likewise.
    glow = soft_steps(glow, 2)
    return Raster(labels=labels, shade=shade, glow=glow)


def base_ramps(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Base colours at shade 0 and shade 1 for every label, ``(L, 3)`` each.

    Both renderers start from these and apply their own style to them.
    Unused mountain labels repeat the last ridge's colours.
    """
    low = np.zeros((NUM_LABELS, 3), np.float64)
    high = np.zeros((NUM_LABELS, 3), np.float64)

    def ramp(label: int, color: tuple, dark: float = 0.55,
             bright: float = 1.1) -> None:
        c = np.asarray(color)
        low[label] = c * dark
        high[label] = np.clip(c * bright, 0, 1)

    low[SKY], high[SKY] = scene.sky_top, scene.sky_bottom
    low[SUN] = high[SUN] = scene.celestial_color
    ramp(CLOUD, scene.cloud_color, dark=0.78, bright=1.0)
    for k in range(3):
        color = scene.ridge_colors[min(k, len(scene.ridge_colors) - 1)]
        ramp(MOUNTAIN + k, color, dark=0.45, bright=1.15)
    ramp(GROUND, scene.ground_color)
    ramp(WATER, scene.water_color, dark=0.7, bright=1.15)
    ramp(TRUNK, scene.trunk_color)
    ramp(CANOPY, scene.foliage_color, dark=0.5, bright=1.2)
    return low, high
