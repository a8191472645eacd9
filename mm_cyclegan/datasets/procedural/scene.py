"""Scene geometry of a procedural landscape, drawn from one integer seed.

A :class:`Scene` holds only geometry and *base* colours (the neutral colour
of each material under the scene's light). The two renderers share it and
differ in how they style those colours, shade and texture them. All
coordinates are fractions of the image: ``x`` of the width, ``y`` of the
height (``y`` grows downwards); radii of round things are fractions of the
shorter side so that they stay round at any aspect ratio.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from mm_cyclegan.utils.validation import check_int

__all__ = ['Cloud', 'Scene', 'TIMES_OF_DAY', 'Tree', 'Water', 'make_scene']

RGB = tuple[float, float, float]
Point = tuple[float, float]

TIMES_OF_DAY = ('day', 'sunset', 'night')
_TIME_WEIGHTS = (0.5, 0.3, 0.2)

# Base colours per time of day: sky top, sky bottom, glow, celestial body.
_SKY = {
    'day': ((0.18, 0.42, 0.85), (0.62, 0.80, 0.96), (1.00, 0.97, 0.85),
            (1.00, 0.96, 0.75)),
    'sunset': ((0.24, 0.22, 0.55), (0.98, 0.58, 0.32), (1.00, 0.72, 0.40),
               (1.00, 0.62, 0.30)),
    'night': ((0.03, 0.05, 0.18), (0.14, 0.20, 0.42), (0.62, 0.68, 0.88),
              (0.93, 0.93, 0.84)),
}
# Multiplier applied to every terrain material under each light.
_LIGHT = {
    'day': (1.00, 1.00, 1.00),
    'sunset': (0.95, 0.70, 0.60),
    'night': (0.30, 0.36, 0.55),
}
_GRASS = (0.30, 0.62, 0.20)
_ROCK = (0.46, 0.44, 0.52)
_FOLIAGE = (0.12, 0.42, 0.16)
_TRUNK = (0.40, 0.25, 0.12)
_CLOUD = {'day': (0.98, 0.98, 1.00), 'sunset': (0.98, 0.80, 0.72),
          'night': (0.40, 0.44, 0.58)}


@dataclass(frozen=True)
class Tree:
    """A tree standing at ``(x, base_y)``; ``kind`` is 'pine' or 'round'."""

    x: float
    base_y: float
    height: float
    width: float
    kind: str


@dataclass(frozen=True)
class Cloud:
    """A cloud as a union of ellipses ``(cx, cy, rx, ry)``."""

    ellipses: tuple[tuple[float, float, float, float], ...]


@dataclass(frozen=True)
class Water:
    """An elliptic lake ``(cx, cy, rx, ry)``, clipped to the ground."""

    cx: float
    cy: float
    rx: float
    ry: float


@dataclass(frozen=True)
class Scene:
    """Geometry and base colours of one landscape (see module docstring).

    ``ridges`` are polylines ordered far to near; each mountain fills the
    area below its ridge. ``ground_line`` is the horizon's ``y`` at the left
    and right edges. ``light_x`` is the horizontal light direction (+1 from
    the right, -1 from the left), taken from the sun or moon.
    """

    seed: int
    time_of_day: str
    sky_top: RGB
    sky_bottom: RGB
    glow_color: RGB
    celestial: str
    celestial_xy: Point
    celestial_radius: float
    celestial_color: RGB
    light_x: float
    ridges: tuple[tuple[Point, ...], ...]
    ridge_colors: tuple[RGB, ...]
    ground_line: tuple[float, float]
    ground_color: RGB
    trees: tuple[Tree, ...]
    foliage_color: RGB
    trunk_color: RGB
    clouds: tuple[Cloud, ...]
    cloud_color: RGB
    water: Optional[Water]
    water_color: RGB

    def ground_y(self, x: np.ndarray | float) -> np.ndarray | float:
        """Horizon height at ``x`` (fraction of the width)."""
        left, right = self.ground_line
        return left + (right - left) * np.asarray(x)


def _color(rng: np.random.Generator, base: RGB, light: RGB = (1, 1, 1),
           jitter: float = 0.02) -> RGB:
    # Small jitter: colours vary between scenes, but a region's colour stays
    # recognisable from its kind and the time of day, which is what a
    # translation network can learn to map.
    noisy = np.asarray(base) * np.asarray(light)
    noisy = noisy + rng.uniform(-jitter, jitter, 3)
    r, g, b = (float(c) for c in np.clip(noisy, 0.0, 1.0))
    return r, g, b


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    r, g, b_ = (float((1 - t) * x + t * y) for x, y in zip(a, b))
    return r, g, b_


def _ridge(rng: np.random.Generator, top: float, bottom: float
           ) -> tuple[Point, ...]:
    """Alternate peaks and valleys between heights ``top`` and ``bottom``."""
    count = int(rng.integers(3, 6))
    xs = np.sort(rng.uniform(0.0, 1.0, count))
    xs = np.concatenate([[-0.05], xs, [1.05]])
    points = []
    for k, x in enumerate(xs):
        peak = (k % 2 == 1) if rng.random() < 0.85 else (k % 2 == 0)
        if peak:
            y = rng.uniform(top, top + 0.35 * (bottom - top))
        else:
            y = rng.uniform(top + 0.45 * (bottom - top), bottom)
        points.append((float(x), float(y)))
    return tuple(points)


def _clouds(rng: np.random.Generator, count: int, lowest: float
            ) -> tuple[Cloud, ...]:
    clouds = []
    for _ in range(count):
        cx = rng.uniform(0.05, 0.95)
        cy = rng.uniform(0.08, max(0.1, lowest))
        parts = []
        for _ in range(int(rng.integers(2, 5))):
            parts.append((float(cx + rng.uniform(-0.08, 0.08)),
                          float(cy + rng.uniform(-0.02, 0.01)),
                          float(rng.uniform(0.04, 0.09)),
                          float(rng.uniform(0.02, 0.045))))
        clouds.append(Cloud(tuple(parts)))
    return tuple(clouds)


def _trees(rng: np.random.Generator, scene_ground: tuple[float, float],
           water: Optional[Water]) -> tuple[Tree, ...]:
    left, right = scene_ground
    trees = []
    for _ in range(int(rng.integers(0, 8))):
        x = float(rng.uniform(0.02, 0.98))
        ground = left + (right - left) * x
        depth = float(rng.uniform(0.05, 1.0))
        base_y = ground + depth * (0.98 - ground)
        height = (0.10 + 0.22 * depth) * float(rng.uniform(0.8, 1.2))
        kind = 'pine' if rng.random() < 0.5 else 'round'
        ratio = rng.uniform(0.45, 0.6) if kind == 'pine' else rng.uniform(
            0.6, 0.8)
        if water is not None and (
                ((x - water.cx) / (water.rx + 0.03))**2 +
                ((base_y - water.cy) / (water.ry + 0.03))**2 < 1.0):
            continue  # no trees standing in the lake
        trees.append(Tree(x, float(base_y), float(height),
                          float(height * ratio), kind))
    return tuple(sorted(trees, key=lambda t: t.base_y))


def _ridges(rng: np.random.Generator, highest: float, sky_bottom: RGB,
            light: RGB) -> tuple[list, list]:
    """One to three mountain ridges, back to front, and their colours."""
    n_ridges = int(rng.integers(1, 4))
    ridges, ridge_colors = [], []
    for k in range(n_ridges):
        # Far ridges rise higher and fade toward the sky (aerial perspective).
        far = (n_ridges - 1 - k) / 2.0
        top_y = highest - rng.uniform(0.22, 0.32) - 0.08 * far
        bottom_y = highest - rng.uniform(0.0, 0.06)
        ridges.append(_ridge(rng, float(top_y), float(bottom_y)))
        rock = _color(rng, _ROCK, light)
        ridge_colors.append(_mix(rock, sky_bottom, 0.25 + 0.25 * far))
    return ridges, ridge_colors


def _water(rng: np.random.Generator, horizon: float) -> Optional[Water]:
    """A lake below the horizon in 40% of the scenes, else ``None``."""
    if rng.random() >= 0.4:
        return None
    ry = float(rng.uniform(0.04, 0.09))
    return Water(float(rng.uniform(0.25, 0.75)),
                 float(rng.uniform(horizon + 0.06 + ry, 0.92)),
                 float(rng.uniform(0.15, 0.32)), ry)


def make_scene(seed: int) -> Scene:
    """Draw a landscape from ``seed`` (a non-negative int).

    Uses only ``numpy.random.default_rng(seed)``: the same seed always gives
    the same scene, independent of any global random state.
    """
    seed = check_int('seed', seed, 0)
    rng = np.random.default_rng(seed)
    time = str(rng.choice(TIMES_OF_DAY, p=_TIME_WEIGHTS))
    top, bottom, glow, body = _SKY[time]
    light = _LIGHT[time]
    sky_top = _color(rng, top)
    sky_bottom = _color(rng, bottom)

    horizon = float(rng.uniform(0.55, 0.72))
    tilt = float(rng.uniform(-0.05, 0.05))
    ground_line = (horizon - tilt, horizon + tilt)
    highest = horizon - abs(tilt)

    ridges, ridge_colors = _ridges(rng, highest, sky_bottom, light)

    celestial = 'moon' if time == 'night' else 'sun'
    cx = float(rng.uniform(0.1, 0.9))
    if time == 'sunset':
        cy = float(rng.uniform(highest - 0.3, highest - 0.12))
    else:
        cy = float(rng.uniform(0.08, 0.28))
    radius = float(rng.uniform(0.05, 0.085))
    light_x = 1.0 if cx >= 0.5 else -1.0

    lowest_cloud = min(y for ridge in ridges for _, y in ridge) - 0.06
    n_clouds = int(rng.integers(0, 3 if time == 'night' else 4))
    clouds = _clouds(rng, n_clouds, lowest_cloud)

    water = _water(rng, horizon)
    water_color = _mix(_mix(sky_top, sky_bottom, 0.5), (0.1, 0.2, 0.3), 0.3)

    return Scene(
        seed=seed,
        time_of_day=time,
        sky_top=sky_top,
        sky_bottom=sky_bottom,
        glow_color=glow,
        celestial=celestial,
        celestial_xy=(cx, cy),
        celestial_radius=radius,
        celestial_color=body,
        light_x=light_x,
        ridges=tuple(ridges),
        ridge_colors=tuple(ridge_colors),
        ground_line=ground_line,
        ground_color=_color(rng, _GRASS, light),
        trees=_trees(rng, ground_line, water),
        foliage_color=_color(rng, _FOLIAGE, light),
        trunk_color=_color(rng, _TRUNK, light),
        clouds=clouds,
        cloud_color=_color(rng, _CLOUD[time], jitter=0.01),
        water=water,
        water_color=water_color,
    )
