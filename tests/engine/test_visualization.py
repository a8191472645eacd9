"""Translation grids: enlarged small tiles, labelled rows and columns."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import TranslationVisualizationHook
from mm_cyclegan.engine.hooks.visualization_hook import (
    COLUMN_LABELS,
    make_translation_grid,
)
from mm_cyclegan.registry import MODELS

init_default_scope('mm_cyclegan')


def _rows(count=2, size=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [[torch.rand(3, size, size, generator=gen) * 2 - 1
             for _ in range(3)] for _ in range(count)]


def _uint8(tile):
    return ((tile.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8) \
        .permute(1, 2, 0).numpy()


def test_small_tiles_are_enlarged_nearest_neighbour():
    rows = _rows(size=16)
    grid = make_translation_grid(rows, gap=2, min_tile_size=40)
    # ceil(40 / 16) = 3: 48 px tiles.
    assert grid.shape == (2 * 48 + 2, 3 * 48 + 2 * 2, 3)
    tile = grid[50:98, 50:98]  # row 1, column 1
    source = _uint8(rows[1][1])
    assert np.array_equal(tile[::3, ::3], source)
    assert np.array_equal(tile, source.repeat(3, 0).repeat(3, 1))


def test_large_tiles_and_zero_minimum_keep_their_size():
    for rows, minimum in ((_rows(size=48), 40), (_rows(size=16), 0)):
        size = rows[0][0].shape[-1]
        grid = make_translation_grid(rows, gap=2, min_tile_size=minimum)
        assert grid.shape == (2 * size + 2, 3 * size + 4, 3)


def test_labels_add_a_header_and_a_left_column_with_ink():
    rows = _rows(size=16)
    plain = make_translation_grid(rows, min_tile_size=64)
    labelled = make_translation_grid(
        rows, min_tile_size=64, column_labels=COLUMN_LABELS,
        row_labels=['#1 a -> b', '#1 b -> a'])
    top = labelled.shape[0] - plain.shape[0]
    left = labelled.shape[1] - plain.shape[1]
    assert 10 < top < 60 and 20 < left < 200
    assert np.array_equal(labelled[top:, left:], plain)
    header, side = labelled[:top, left:], labelled[top:, :left]
    # Dark text on white above each column and beside each row.
    width = (plain.shape[1] - 4) // 3
    for c in range(3):
        assert (header[:, c * (width + 2):(c + 1) * width] < 100).any(), c
    assert (side[:64] < 100).any() and (side[66:] < 100).any()


def test_hook_draws_a_labelled_grid_of_192_px_tiles():
    model = MODELS.build(dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=3,
                           out_channels=3, base_channels=4, num_blocks=1),
        discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                             base_channels=4, num_conv=2)))
    images = []
    visualizer = SimpleNamespace(
        add_image=lambda name, image, step: images.append((name, image)))
    runner = SimpleNamespace(model=model, visualizer=visualizer)
    hook = TranslationVisualizationHook(interval=1, num_samples=2)
    gen = torch.Generator().manual_seed(0)
    hook._batch = dict(img_a=torch.rand(2, 3, 32, 32, generator=gen),
                       img_b=torch.rand(2, 3, 32, 32, generator=gen))
    grid = hook.draw(runner, step=1)
    assert images[0][0] == 'translation' and images[0][1] is grid
    plain_height, plain_width = 4 * 192 + 3 * 2, 3 * 192 + 2 * 2
    assert grid.shape[0] > plain_height and grid.shape[1] > plain_width
    assert model.training  # the previous mode is restored


@pytest.mark.parametrize('value', [-1, 1.5, True])
def test_bad_min_tile_size_is_named(value):
    with pytest.raises((ValueError, TypeError), match='min_tile_size'):
        TranslationVisualizationHook(min_tile_size=value)
