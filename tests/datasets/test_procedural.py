"""Procedural landscapes: scenes, the two renderers, the dataset."""
import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

import mm_cyclegan  # noqa: F401
from mm_cyclegan.datasets.procedural import (
    ProceduralLandscapeDataset,
    Raster,
    make_scene,
    outline_mask,
    rasterize,
    render_anime,
    render_photo,
)
from mm_cyclegan.datasets.procedural.raster import (
    CLOUD,
    GROUND,
    MOUNTAIN,
    SKY,
    TONE_LEVELS,
    render_size,
    soft_steps,
)
from mm_cyclegan.registry import DATASETS

SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)


def _saturation(image):
    image = image.astype(np.float64)
    return (image.max(axis=-1) - image.min(axis=-1)).mean()


def _unexplained(image, raster):
    """Fraction of the image's variance not explained by the raster.

    Within each region of ``raster``, colour is fitted as a linear function
    of the raster's shading; what the fits miss is the residual.
    """
    image = image.astype(np.float64)
    residual = image.copy()
    for label in np.unique(raster.labels):
        mask = raster.labels == label
        design = np.stack([np.ones(mask.sum()), raster.shade[mask]], 1)
        coef = np.linalg.lstsq(design, image[mask], rcond=None)[0]
        residual[mask] -= design @ coef
    return (residual**2).sum() / ((image - image.mean((0, 1)))**2).sum()


# --------------------------------------------------------------- scenes


def test_make_scene_is_deterministic_and_seed_dependent():
    assert make_scene(11) == make_scene(11)
    assert make_scene(11) != make_scene(12)


@pytest.mark.parametrize('bad, error', [(-1, ValueError), (1.5, TypeError),
                                        ('3', TypeError)])
def test_make_scene_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match='seed'):
        make_scene(bad)


def test_scene_contents_stay_in_documented_ranges():
    for seed in range(40):
        scene = make_scene(seed)
        assert 1 <= len(scene.ridges) <= 3
        assert len(scene.ridge_colors) == len(scene.ridges)
        assert scene.time_of_day in ('day', 'sunset', 'night')
        assert (scene.celestial == 'moon') == (scene.time_of_day == 'night')
        for color in (scene.sky_top, scene.ground_color, scene.cloud_color):
            assert all(0.0 <= c <= 1.0 for c in color)
        bases = [tree.base_y for tree in scene.trees]
        assert bases == sorted(bases)  # drawn far to near


# ------------------------------------------------------------ renderers


@pytest.mark.parametrize('render', [render_photo, render_anime])
def test_render_is_byte_identical_for_a_seed(render):
    first = render(make_scene(3), 48)
    # Global random state must not matter.
    np.random.seed(123)
    random.seed(123)
    torch.manual_seed(123)
    second = render(make_scene(3), 48)
    assert first.tobytes() == second.tobytes()
    assert first.tobytes() != render(make_scene(4), 48).tobytes()


@pytest.mark.parametrize('render', [render_photo, render_anime])
@pytest.mark.parametrize('size, shape', [(32, (32, 32)), ((24, 40),
                                                          (24, 40)),
                                         (np.int64(16), (16, 16))])
def test_render_returns_uint8_rgb_of_the_size(render, size, shape):
    image = render(make_scene(1), size)
    assert image.shape == shape + (3, )
    assert image.dtype == np.uint8


@pytest.mark.parametrize('size, error', [(4, ValueError), ((8, 2), ValueError),
                                         (32.0, TypeError), ((8, ), TypeError),
                                         (True, TypeError)])
def test_render_rejects_bad_sizes(size, error):
    with pytest.raises(error, match='size'):
        render_photo(make_scene(0), size)


def test_styles_share_the_region_map():
    for seed in SEEDS:
        scene = make_scene(seed)
        raster = rasterize(scene, 64)
        moved = Raster(labels=np.roll(raster.labels, 2, axis=1),
                       shade=np.roll(raster.shade, 2, axis=1),
                       glow=raster.glow)
        for render in (render_photo, render_anime):
            image = render(scene, 64)
            # The scene's own region map and shading explain each rendering
            # far better than the same fields moved by two pixels.
            assert _unexplained(image, raster) < 0.75 * _unexplained(
                image, moved), (seed, render.__name__)


def _blocks(raster):
    """Per output pixel: its label if all 2 x 2 drawn pixels share label,
    tone, halo and ink (else -1), and the fraction of them that is ink."""
    labels = raster.labels.astype(np.int64)
    levels = TONE_LEVELS[labels]
    tone = np.minimum(np.floor(raster.shade * levels), levels - 1)
    ink = outline_mask(raster.labels)
    key = ((labels * 8 + tone) * 2 + (raster.glow >= 0.5)) * 2 + ink
    h, w = labels.shape
    key = key.reshape(h // 2, 2, w // 2, 2)
    uniform = key.min(axis=(1, 3)) == key.max(axis=(1, 3))
    block_labels = np.where(uniform, labels[::2, ::2], -1)
    return block_labels, ink.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def test_anime_is_flat_and_photo_is_textured():
    for seed in SEEDS:
        scene = make_scene(seed)
        block_labels, ink = _blocks(rasterize(scene, render_size(64)))
        photo, anime = render_photo(scene, 64), render_anime(scene, 64)
        for label in np.unique(block_labels[block_labels >= 0]):
            mask = (block_labels == label) & (ink == 0)
            colors = {tuple(c) for c in anime[mask]}
            # Two cel tones per region; the sky has 4 bands, each of which
            # may also lie inside the sun's halo.
            assert len(colors) <= (8 if label == SKY else 2), (seed, label)
        ground = (block_labels == GROUND) & (ink == 0)
        if ground.sum() > 50:
            assert len({tuple(c) for c in photo[ground]}) > 20


def test_edges_are_anti_aliased():
    scene = make_scene(2)
    block_labels, _ = _blocks(rasterize(scene, render_size(64)))
    anime = render_anime(scene, 64)
    flat_colors = {tuple(c) for c in anime[block_labels >= 0]}
    mixed = [tuple(c) for c in anime[block_labels < 0]]
    # Pixels straddling a border blend the colours on both sides.
    assert len(mixed) > 50
    assert sum(c not in flat_colors for c in mixed) > 0.5 * len(mixed)


def test_styles_differ_in_palette():
    for seed in SEEDS:
        scene = make_scene(seed)
        photo, anime = render_photo(scene, 64), render_anime(scene, 64)
        assert _saturation(anime) > 1.5 * _saturation(photo), seed
        diff = np.abs(photo.astype(int) - anime.astype(int)).mean()
        assert diff > 12, seed


def test_anime_outlines_are_dark_and_on_region_borders():
    days = 0
    for seed in SEEDS:
        scene = make_scene(seed)
        raster = rasterize(scene, render_size(64))
        labels = raster.labels
        ink = outline_mask(labels)
        assert ink.any()
        # Lines are 2 drawn pixels (1 output pixel) wide, on the near side:
        # within 2 pixels along a row or column lies a farther region.
        border = np.zeros_like(ink)
        for d in (1, 2):
            border[d:] |= labels[:-d] < labels[d:]
            border[:-d] |= labels[d:] < labels[:-d]
            border[:, d:] |= labels[:, :-d] < labels[:, d:]
            border[:, :-d] |= labels[:, d:] < labels[:, :-d]
        assert not (ink & ~border).any()
        days += scene.time_of_day == 'day'
        anime = render_anime(scene, 64).astype(np.float64).sum(-1)
        block_labels, ink_share = _blocks(raster)
        near = labels[::2, ::2]
        for label in np.unique(labels[ink]):
            inked = anime[(ink_share == 1) & (near == label)]
            plain = anime[(ink_share == 0) & (block_labels == label)]
            if not (inked.size and plain.size):
                continue  # e.g. a trunk one line wide
            # Lines are darker than their region; in daylight clearly so.
            factor = 0.85 if scene.time_of_day == 'day' else 1.0
            assert inked.mean() < factor * plain.mean(), (seed, label)
    assert days >= 2


def test_renderers_check_a_given_raster():
    scene = make_scene(0)
    raster = rasterize(scene, render_size(32))
    both = (render_photo(scene, 32, raster=raster),
            render_anime(scene, 32, raster=raster))
    assert both[0].tobytes() == render_photo(scene, 32).tobytes()
    assert both[1].tobytes() == render_anime(scene, 32).tobytes()
    with pytest.raises(ValueError, match='render_size'):
        render_photo(scene, 32, raster=rasterize(scene, 32))


@pytest.mark.parametrize('levels', [2, 4])
def test_soft_steps_keep_tone_borders_and_steepen_there(levels):
    field = np.linspace(0.0, 1.0, 4001)
    stepped = soft_steps(field, levels)
    assert np.all(np.diff(stepped) >= 0)
    assert stepped[0] == 0.0 and stepped[-1] == 1.0
    inside = np.abs(field * levels - np.round(field * levels)) > 1e-6
    assert np.array_equal(np.floor(stepped * levels)[inside],
                          np.floor(field * levels)[inside])
    slope = np.gradient(stepped, field)
    border = np.argmin(np.abs(field - 1 / levels))
    middle = np.argmin(np.abs(field - 0.5 / levels))
    assert slope[border] > 1.5 > 0.5 > slope[middle]


def test_outline_mask_marks_the_near_side_and_scales_with_size():
    labels = np.zeros((64, 64), np.uint8)
    labels[:, 32:] = GROUND  # ground (near) right of the sky
    ink = outline_mask(labels)
    assert ink[:, 32].all() and ink.sum() == 64

    labels = np.full((128, 128), MOUNTAIN, np.uint8)
    labels[:, :64] = GROUND  # ground is nearer than the mountain
    ink = outline_mask(labels)
    assert ink[:, 62:64].all() and ink.sum() == 2 * 128

    labels = np.zeros((64, 64), np.uint8)
    labels[20:30, 20:30] = CLOUD  # clouds carry no ink
    assert not outline_mask(labels).any()


# -------------------------------------------------------------- dataset


def _dataset(**kwargs):
    args = dict(num_samples=8, size=32)
    args.update(kwargs)
    return ProceduralLandscapeDataset(**args)


def _seed_of(path):
    return int(path.rsplit('/', 1)[1])


def test_sample_dict_keys_shapes_and_ranges():
    sample = _dataset()[3]
    assert set(sample) == {
        'img_a', 'img_b', 'path_a', 'path_b', 'index_a', 'index_b',
        'valid_a', 'valid_b', 'pad_a', 'pad_b', 'paired'
    }
    for key in ('img_a', 'img_b'):
        img = sample[key]
        assert img.shape == (3, 32, 32) and img.dtype == torch.float32
        assert img.min() >= -1.0 and img.max() <= 1.0
        assert img.max() - img.min() > 0.5
    assert sample['path_a'].startswith('procedural://photo/')
    assert sample['path_b'].startswith('procedural://anime/')
    assert sample['index_a'] == 3 and 0 <= sample['index_b'] < 8
    assert sample['valid_a'] is True and sample['valid_b'] is True
    assert sample['paired'] is False
    for key in ('pad_a', 'pad_b'):
        assert sample[key].dtype == torch.int64
        assert sample[key].tolist() == [0, 0, 0, 0]


def test_samples_collate_into_a_batch():
    dataset = _dataset(split='test')
    batch = default_collate([dataset[i] for i in range(4)])
    assert batch['img_a'].shape == (4, 3, 32, 32)
    assert batch['pad_b'].shape == (4, 4)
    assert batch['paired'].tolist() == [True] * 4
    assert batch['path_a'] == [
        f'procedural://photo/{2_000_000 + i}' for i in range(4)
    ]


def test_test_split_is_paired_and_unflipped():
    dataset = _dataset(split='test', flip=True)
    for i in range(4):
        sample = dataset[i]
        seed = _seed_of(sample['path_a'])
        assert seed == _seed_of(sample['path_b']) == 2_000_000 + i
        assert sample['paired'] is True
        scene = make_scene(seed)
        photo = torch.from_numpy(render_photo(scene, 32)).permute(2, 0, 1)
        anime = torch.from_numpy(render_anime(scene, 32)).permute(2, 0, 1)
        # [-1, 1] back to the rendered bytes, RGB, not flipped.
        assert torch.equal(
            ((sample['img_a'] + 1) * 127.5).round().to(torch.uint8), photo)
        assert torch.equal(
            ((sample['img_b'] + 1) * 127.5).round().to(torch.uint8), anime)


def test_train_domains_and_test_use_disjoint_seeds():
    n = 20
    train = _dataset(num_samples=n)
    test = _dataset(split='test', num_samples=n)
    seeds_a, seeds_b, seeds_t = set(), set(), set()
    for idx in range(3 * n):  # three epochs
        sample = train[idx]
        seeds_a.add(_seed_of(sample['path_a']))
        seeds_b.add(_seed_of(sample['path_b']))
    for i in range(n):
        seeds_t.add(_seed_of(test[i]['path_a']))
    assert seeds_a <= set(range(0, n))
    assert seeds_b <= set(range(1_000_000, 1_000_000 + n))
    assert seeds_t == set(range(2_000_000, 2_000_000 + n))
    assert not (seeds_a & seeds_b or seeds_a & seeds_t or seeds_b & seeds_t)
    assert set(train.scene_seeds('a')).isdisjoint(test.scene_seeds('a'))


@pytest.mark.parametrize('kwargs, names', [
    (dict(train_seed_offset_b=5), ('train_seed_offset_a',
                                   'train_seed_offset_b')),
    (dict(test_seed_offset=1_000_009), ('train_seed_offset_b',
                                        'test_seed_offset')),
    (dict(num_samples=1_000_001), ('train_seed_offset_a',
                                   'train_seed_offset_b')),
])
def test_overlapping_seed_ranges_are_rejected(kwargs, names):
    args = dict(num_samples=10, size=32)
    args.update(kwargs)
    with pytest.raises(ValueError, match='overlap') as info:
        ProceduralLandscapeDataset(**args)
    for name in names:
        assert name in str(info.value)


def test_adjacent_seed_ranges_are_allowed():
    dataset = ProceduralLandscapeDataset(
        num_samples=10, train_seed_offset_a=0, train_seed_offset_b=10,
        test_seed_offset=20)
    assert list(dataset.scene_seeds('b')) == list(range(10, 20))


@pytest.mark.parametrize('kwargs, error', [
    (dict(split='val'), ValueError),
    (dict(num_samples=0), ValueError),
    (dict(seed=-1), ValueError),
    (dict(train_seed_offset_a=-5), ValueError),
    (dict(num_samples=2.5), TypeError),
])
def test_bad_arguments_are_rejected(kwargs, error):
    with pytest.raises(error):
        _dataset(**kwargs)


def _fingerprint(sample):
    return (sample['path_a'], sample['path_b'],
            sample['img_a'].numpy().tobytes(),
            sample['img_b'].numpy().tobytes())


def test_samples_depend_only_on_seed_epoch_and_index():
    indices = list(range(24))  # three epochs of eight
    forward = [_fingerprint(_dataset()[i]) for i in indices]
    shuffled = indices[:]
    random.Random(1).shuffle(shuffled)
    other = _dataset()
    np.random.seed(7)
    torch.manual_seed(7)
    by_index = {i: _fingerprint(other[i]) for i in shuffled}
    assert [by_index[i] for i in indices] == forward
    # Later epochs redraw flips and partners; a different run seed too.
    assert forward[:8] != forward[8:16]
    reseeded = [_fingerprint(_dataset(seed=1)[i]) for i in range(8)]
    assert reseeded != forward[:8]


def test_flips_are_drawn_per_domain_and_can_be_turned_off():
    dataset = _dataset(num_samples=16)
    flipped_a = flipped_b = 0
    for i in range(16):
        sample = dataset[i]
        photo = render_photo(make_scene(_seed_of(sample['path_a'])), 32)
        plain = torch.from_numpy(photo).permute(2, 0, 1).float() / 127.5 - 1
        flipped_a += not torch.allclose(sample['img_a'], plain)
        anime = render_anime(make_scene(_seed_of(sample['path_b'])), 32)
        plain = torch.from_numpy(anime).permute(2, 0, 1).float() / 127.5 - 1
        flipped_b += not torch.allclose(sample['img_b'], plain)
    assert 0 < flipped_a < 16 and 0 < flipped_b < 16
    for flags in (dict(flip=False), dict(test_mode=True)):
        quiet = _dataset(num_samples=16, **flags)
        for i in range(16):
            sample = quiet[i]
            photo = render_photo(make_scene(_seed_of(sample['path_a'])), 32)
            assert torch.equal(
                ((sample['img_a'] + 1) * 127.5).round().to(torch.uint8),
                torch.from_numpy(photo).permute(2, 0, 1))


def test_negative_index_is_rejected():
    with pytest.raises(ValueError, match='idx'):
        _dataset()[-1]


def test_built_from_the_registry_and_loaded_by_workers():
    dataset = DATASETS.build(
        dict(type='ProceduralLandscapeDataset', split='train', num_samples=6,
             size=16, seed=3))
    assert isinstance(dataset, ProceduralLandscapeDataset)
    assert dataset.metainfo == dict(domain_a='photo', domain_b='anime')
    single = [_fingerprint(dataset[i]) for i in range(6)]
    loader = DataLoader(dataset, batch_size=None, num_workers=2,
                        multiprocessing_context='fork')
    assert [_fingerprint(s) for s in loader] == single
