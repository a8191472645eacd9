"""The reference's preprocess modes and flips on one float image."""
import random

import numpy as np
import pytest
import torch

from mm_cyclegan.datasets.transforms import (
    Preprocess,
    pad_to_multiple,
    random_crop,
    random_flip,
    resize,
    scale_width,
)


def ramp_image(height, width, channels=3):
    """Every pixel distinct, values inside [-1, 1]."""
    count = height * width * channels
    values = np.linspace(-1, 1, count, dtype=np.float32)
    return values.reshape(height, width, channels)


def find_window(big, small):
    """(top, left) where ``small`` sits inside ``big``, or None."""
    h, w = small.shape[:2]
    for top in range(big.shape[0] - h + 1):
        for left in range(big.shape[1] - w + 1):
            if np.array_equal(big[top:top + h, left:left + w], small):
                return top, left
    return None


def test_resize_keeps_float_precision_and_range():
    value = np.float32(0.123456789)
    image = np.full((10, 12, 3), value, np.float32)
    out = resize(image, 17, 9)
    assert out.shape == (17, 9, 3) and out.dtype == np.float32
    # An 8-bit round trip would be off by up to 1/255.
    np.testing.assert_allclose(out, value, atol=1e-6)
    edges = np.where(np.indices((16, 16)).sum(0)[..., None] % 2, 1.0, -1.0)
    sharp = resize(edges.astype(np.float32), 40, 40)
    assert sharp.min() >= -1 and sharp.max() <= 1  # bicubic overshoot cut


def test_resize_handles_one_channel():
    out = resize(ramp_image(8, 8, 1), 5, 6)
    assert out.shape == (5, 6, 1)


def test_scale_width_follows_the_reference():
    assert scale_width(ramp_image(50, 100), 64, 16).shape[:2] == (32, 64)
    # Height never below the crop size.
    assert scale_width(ramp_image(10, 100), 64, 16).shape[:2] == (16, 64)
    image = ramp_image(40, 64)
    assert scale_width(image, 64, 16) is image  # already the right width


def test_random_crop_is_a_window_of_the_input():
    image = ramp_image(12, 15)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        crop = random_crop(image, 8, rng)
        assert crop.shape == (8, 8, 3)
        where = find_window(image, crop)
        assert where is not None
        seen.add(where)
    assert len(seen) > 1  # the position is random


def test_crop_too_small_names_file_and_sizes():
    with pytest.raises(ValueError, match=r"'tiny.png'.*9x7.*crop_size=8"):
        random_crop(ramp_image(7, 9), 8, np.random.default_rng(0),
                    path='tiny.png')


def test_pad_to_multiple_of_four_records_padding():
    image = ramp_image(10, 13)
    padded, padding = pad_to_multiple(image, 4)
    top, bottom, left, right = padding
    assert padded.shape[:2] == (12, 16)
    assert (top + bottom, left + right) == (2, 3)
    np.testing.assert_array_equal(
        padded[top:top + 10, left:left + 13], image)
    # Reflect padding mirrors without repeating the edge row.
    if top:
        np.testing.assert_array_equal(padded[top - 1], padded[top + 1])
    same, none = pad_to_multiple(ramp_image(8, 12), 4)
    assert none == (0, 0, 0, 0) and same.shape[:2] == (8, 12)


def test_pad_works_on_one_pixel_wide_images():
    padded, padding = pad_to_multiple(ramp_image(1, 5), 4)
    assert padded.shape[:2] == (4, 8)
    assert sum(padding) == 6


def test_random_flip_is_fair_and_optional():
    image = ramp_image(4, 6)
    rng = np.random.default_rng(1)
    flipped = 0
    for _ in range(200):
        out = random_flip(image, rng, horizontal=True)
        if np.array_equal(out, image[:, ::-1]):
            flipped += 1
        else:
            np.testing.assert_array_equal(out, image)
    assert 60 < flipped < 140
    out = random_flip(image, np.random.default_rng(1), horizontal=False)
    np.testing.assert_array_equal(out, image)
    outs = [random_flip(image, rng, False, True) for _ in range(50)]
    assert any(np.array_equal(o, image[::-1]) for o in outs)


@pytest.mark.parametrize('mode, size, expected', [
    ('resize_and_crop', (40, 60), (24, 24)),
    ('crop', (40, 60), (24, 24)),
    ('scale_width', (60, 40), (48, 32)),
    ('scale_width', (40, 60), (24, 32)),
    ('scale_width_and_crop', (40, 60), (24, 24)),
    ('none', (41, 62), (44, 64)),
])
def test_each_mode_produces_the_reference_size(mode, size, expected):
    # load_size 32, crop 24; scale_width: height = max(32 * h / w, 24).
    transform = Preprocess(mode, load_size=32, crop_size=24)
    out, padding = transform(ramp_image(*size), np.random.default_rng(3))
    assert out.shape[:2] == expected
    assert out.flags['C_CONTIGUOUS']
    if mode != 'none':
        assert padding == (0, 0, 0, 0)
    else:
        assert (padding[0] + padding[1], padding[2] + padding[3]) == (3, 2)


def test_same_generator_state_gives_same_output():
    transform = Preprocess('resize_and_crop', 40, 32)
    image = ramp_image(50, 50)
    a, _ = transform(image, np.random.default_rng(7))
    b, _ = transform(image, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    outs = {transform(image, np.random.default_rng(s))[0].tobytes()
            for s in range(10)}
    assert len(outs) > 1


def test_padding_describes_the_flipped_output():
    transform = Preprocess('none', flip=True)
    image = ramp_image(6, 9)
    for seed in range(8):
        out, (top, bottom, left, right) = transform(
            image, np.random.default_rng(seed))
        inner = out[top:out.shape[0] - bottom, left:out.shape[1] - right]
        assert (np.array_equal(inner, image)
                or np.array_equal(inner, image[:, ::-1]))


def test_global_random_state_is_untouched():
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    py_state = random.getstate()
    transform = Preprocess('resize_and_crop', 40, 32, flip=True, vflip=True)
    for seed in range(5):
        transform(ramp_image(30, 30), np.random.default_rng(seed))
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert random.getstate() == py_state


@pytest.mark.parametrize('kwargs, bad', [
    (dict(mode='resize'), "'resize'"),
    (dict(load_size=0), 'load_size'),
    (dict(crop_size=2.5), 'crop_size'),
    (dict(load_size=200, crop_size=256), 'load_size >= crop_size'),
])
def test_invalid_options_are_named(kwargs, bad):
    with pytest.raises((ValueError, TypeError), match=bad):
        Preprocess(**kwargs)


def test_size_problem_only_for_crop_mode():
    assert Preprocess('crop', 32, 24).size_problem(20, 30) is not None
    assert Preprocess('crop', 32, 24).size_problem(24, 24) is None
    assert Preprocess('resize_and_crop', 32, 24).size_problem(5, 5) is None
