"""Procedural photo / anime landscapes with paired ground truth.

:func:`make_scene` draws a scene's geometry from a seed; :func:`render_photo`
and :func:`render_anime` render the same scene in two styles; the registered
:class:`ProceduralLandscapeDataset` serves unpaired training pairs and paired
test pairs from disjoint seed ranges.
"""
from .dataset import ProceduralLandscapeDataset, check_disjoint_ranges
from .raster import LABEL_NAMES, Raster, rasterize, render_size
from .render_anime import outline_mask, render_anime
from .render_photo import render_photo
from .scene import Scene, make_scene

__all__ = [
    'LABEL_NAMES', 'ProceduralLandscapeDataset', 'Raster', 'Scene',
    'check_disjoint_ranges', 'make_scene', 'outline_mask', 'rasterize',
    'render_anime', 'render_photo', 'render_size'
]
