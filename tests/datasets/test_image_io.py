"""Reading every supported kind of image file, and refusing bad ones."""
import pickle
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from mm_cyclegan.datasets.image_io import (
    ImageReadError,
    decode_image,
    read_image,
    to_float,
)

RNG = np.random.default_rng(1234)


def scaled(values, max_value):
    return values.astype(np.float64) / max_value * 2 - 1


# ---------------------------------------------------------------------------
# 8-bit colour and gray, channel order


@pytest.mark.parametrize('ext', ['.png', '.bmp', '.tif', '.webp'])
def test_lossless_rgb_formats_are_exact(tmp_path, ext):
    pixels = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    path = tmp_path / f'img{ext}'
    save = dict(lossless=True) if ext == '.webp' else {}
    Image.fromarray(pixels).save(path, **save)
    image = read_image(str(path))
    assert image.dtype == np.float32 and image.shape == (9, 11, 3)
    np.testing.assert_allclose(image, scaled(pixels, 255), atol=1e-6)


def test_channel_order_is_rgb_even_for_files_written_by_opencv(tmp_path):
    bgr_red = np.zeros((4, 4, 3), np.uint8)
    bgr_red[..., 2] = 255  # OpenCV stores red last
    cv2.imwrite(str(tmp_path / 'red.png'), bgr_red)
    image = read_image(str(tmp_path / 'red.png'))
    np.testing.assert_array_equal(image[..., 0], 1.0)
    np.testing.assert_array_equal(image[..., 1:], -1.0)


def test_gray_jpeg_becomes_three_equal_channels(tmp_path):
    ramp = np.tile(np.linspace(40, 200, 32).astype(np.uint8), (32, 1))
    path = tmp_path / 'gray.jpg'
    Image.fromarray(ramp, mode='L').save(path, quality=95)
    image = read_image(str(path), channels=3)
    assert image.shape == (32, 32, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    # JPEG is lossy, but only by a few levels on a smooth ramp.
    np.testing.assert_allclose(image[..., 0], scaled(ramp, 255),
                               atol=6 / 255)
    gray = read_image(str(path), channels=1)
    assert gray.shape == (32, 32, 1)
    np.testing.assert_array_equal(gray[..., 0], image[..., 0])


def test_rgb_to_one_channel_uses_bt601_luminance(tmp_path):
    pixels = RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / 'c.png')
    gray = read_image(str(tmp_path / 'c.png'), channels=1)
    r, g, b = (pixels[..., c].astype(np.float64) / 255 for c in range(3))
    expected = (0.299 * r + 0.587 * g + 0.114 * b) * 2 - 1
    assert gray.shape == (5, 6, 1)
    np.testing.assert_allclose(gray[..., 0], expected, atol=1e-6)


# ---------------------------------------------------------------------------
# alpha


def _rgba_fixture(tmp_path):
    pixels = np.zeros((2, 3, 4), np.uint8)
    pixels[0, 0] = (0, 0, 0, 0)  # fully transparent black
    pixels[0, 1] = (200, 100, 50, 255)  # opaque
    pixels[0, 2] = (0, 0, 0, 102)  # 40 % black
    pixels[1] = (10, 20, 30, 255)
    path = tmp_path / 'rgba.png'
    Image.fromarray(pixels, mode='RGBA').save(path)
    return str(path), pixels


def test_alpha_composited_on_white_by_default(tmp_path):
    path, pixels = _rgba_fixture(tmp_path)
    image = read_image(path)
    assert image.shape == (2, 3, 3)
    np.testing.assert_allclose(image[0, 0], 1.0)  # background, not black
    np.testing.assert_allclose(image[0, 1], scaled(pixels[0, 1, :3], 255),
                               atol=1e-6)
    a = 102 / 255
    np.testing.assert_allclose(image[0, 2], (1 - a) * 2 - 1, atol=1e-6)


def test_alpha_background_is_configurable(tmp_path):
    path, _ = _rgba_fixture(tmp_path)
    image = read_image(path, background=(0, 0, 255))
    np.testing.assert_allclose(image[0, 0], (-1, -1, 1))
    gray = read_image(path, channels=1, background=(0, 0, 255))
    np.testing.assert_allclose(gray[0, 0, 0], 0.114 * 2 - 1, atol=1e-6)


def test_alpha_drop_keeps_stored_colour(tmp_path):
    path, pixels = _rgba_fixture(tmp_path)
    image = read_image(path, alpha='drop')
    np.testing.assert_allclose(image, scaled(pixels[..., :3], 255),
                               atol=1e-6)


def test_palette_png_with_transparency_is_composited(tmp_path):
    image = Image.new('P', (2, 1))
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.putdata([0, 1])
    image.save(tmp_path / 'p.png', transparency=0)
    out = read_image(str(tmp_path / 'p.png'))
    np.testing.assert_allclose(out[0, 0], 1.0)  # transparent -> white
    np.testing.assert_allclose(out[0, 1], (-1, 1, -1))


# ---------------------------------------------------------------------------
# 16 bit


def _assert_16bit_survives(image, values):
    expected = scaled(values, 65535)
    assert np.max(np.abs(image - expected)) < 1 / 65535


def test_16bit_gray_png_keeps_full_precision(tmp_path):
    values = RNG.integers(0, 65536, (16, 16), dtype=np.uint16)
    values[0, :3] = (0, 1, 65535)  # neighbours 8 bits would merge
    cv2.imwrite(str(tmp_path / 'g16.png'), values)
    image = read_image(str(tmp_path / 'g16.png'), channels=1)
    assert image.shape == (16, 16, 1)
    _assert_16bit_survives(image[..., 0], values)
    assert image[0, 0, 0] != image[0, 1, 0]


@pytest.mark.parametrize('ext', ['.png', '.tif'])
def test_16bit_rgb_keeps_full_precision_and_rgb_order(tmp_path, ext):
    values = RNG.integers(0, 65536, (8, 10, 3), dtype=np.uint16)
    path = tmp_path / f'rgb16{ext}'
    cv2.imwrite(str(path), values[..., ::-1])  # OpenCV wants BGR
    image = read_image(str(path))
    _assert_16bit_survives(image, values)
    pixels, max_value = decode_image(str(path))
    assert pixels.dtype == np.uint16 and max_value == 65535


def test_16bit_rgba_png_composites_at_full_precision(tmp_path):
    values = RNG.integers(0, 65536, (4, 5, 4), dtype=np.uint16)
    values[..., 3] = 65535
    values[0, 0, 3] = 0
    cv2.imwrite(str(tmp_path / 'rgba16.png'), values[..., [2, 1, 0, 3]])
    image = read_image(str(tmp_path / 'rgba16.png'))
    np.testing.assert_allclose(image[0, 0], 1.0)
    _assert_16bit_survives(image[1:], values[1:, :, :3])


def test_float_tiff_is_refused_with_reason(tmp_path):
    path = tmp_path / 'float.tif'
    cv2.imwrite(str(path), RNG.random((4, 4)).astype(np.float32))
    with pytest.raises(ImageReadError, match='float.tif') as info:
        read_image(str(path))
    assert '8 or 16 bits' in str(info.value)


# ---------------------------------------------------------------------------
# orientation


@pytest.mark.parametrize('orientation', range(1, 9))
def test_exif_orientation_is_applied_like_pillow(tmp_path, orientation):
    pixels = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / 'o.png'
    image.save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    out = read_image(str(path))
    np.testing.assert_allclose(out, scaled(expected, 255), atol=1e-6)


# ---------------------------------------------------------------------------
# errors name the file and the reason


def test_truncated_jpeg_is_refused(tmp_path):
    pixels = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    good = tmp_path / 'good.jpg'
    Image.fromarray(pixels).save(good)
    data = good.read_bytes()
    bad = tmp_path / 'cut short.jpg'
    bad.write_bytes(data[:len(data) // 2])
    with pytest.raises(ImageReadError, match='cut short.jpg') as info:
        read_image(str(bad))
    assert 'truncated' in info.value.reason


def test_zero_byte_file_is_refused(tmp_path):
    path = tmp_path / 'zero.png'
    path.write_bytes(b'')
    with pytest.raises(ImageReadError, match='zero.png.*empty'):
        read_image(str(path))


def test_text_file_named_jpg_is_refused(tmp_path):
    path = tmp_path / 'notes.jpg'
    path.write_text('not an image')
    with pytest.raises(ImageReadError, match='notes.jpg') as info:
        read_image(str(path))
    assert 'not a recognised image' in info.value.reason


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ImageReadError, match='nowhere.png'):
        read_image(str(tmp_path / 'nowhere.png'))


def test_too_many_pixels_refused_by_max_pixels(tmp_path):
    Image.new('RGB', (20, 20)).save(tmp_path / 'big.png')
    with pytest.raises(ImageReadError, match='big.png') as info:
        read_image(str(tmp_path / 'big.png'), max_pixels=399)
    assert 'decompression bomb' in info.value.reason
    assert read_image(str(tmp_path / 'big.png'), max_pixels=400).shape == (
        20, 20, 3)


def _png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack(
        '>I', zlib.crc32(body))


def test_bomb_header_refused_before_decoding(tmp_path):
    # A 50000 x 50000 header with no pixel data: decoding would fail (or
    # allocate 7.5 GB); the refusal must come from the header alone.
    ihdr = struct.pack('>IIBBBBB', 50000, 50000, 8, 2, 0, 0, 0)
    data = (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', ihdr) +
            _png_chunk(b'IEND', b''))
    (tmp_path / 'bomb.png').write_bytes(data)
    with pytest.raises(ImageReadError, match='bomb.png') as info:
        decode_image(str(tmp_path / 'bomb.png'))
    assert 'decompression bomb' in info.value.reason


def test_error_survives_pickling_for_worker_processes(tmp_path):
    err = ImageReadError('/x/y.png', 'broken')
    copy = pickle.loads(pickle.dumps(err))
    assert copy.path == '/x/y.png' and copy.reason == 'broken'
    assert str(copy) == str(err)


@pytest.mark.parametrize('kwargs, bad', [
    (dict(channels=2), 'channels'),
    (dict(alpha='ignore'), "'ignore'"),
    (dict(background=(0, 0)), 'alpha_background'),
    (dict(background=(0, 0, 300)), '300'),
])
def test_invalid_options_are_named(kwargs, bad):
    pixels = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError, match=bad):
        to_float(pixels, 255, **kwargs)
