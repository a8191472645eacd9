"""Read any supported image file into a float32 array in [-1, 1].

Two steps, so the start-up scan can decode without converting:

* :func:`decode_image` returns the file's pixels as ``uint8`` or ``uint16``
  (H, W, C), **RGB** order, with the EXIF/TIFF orientation applied; C is 1
  (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). The pixel count is checked
  against a decompression-bomb limit from the header, before decoding.
* :func:`to_float` scales by the file's real bit depth (``v / 255`` or
  ``v / 65535``, then ``* 2 - 1``), handles alpha and converts to the wanted
  channel count.

Pillow decodes everything except PNG/TIFF with more than 8 bits per channel
in colour, which Pillow would quantise to 8 bits; OpenCV
(``IMREAD_UNCHANGED``) decodes those, and its BGR(A) output is reordered to
RGB(A) here. Every failure raises :class:`ImageReadError`, naming the file
and the reason.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Sequence

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from mm_cyclegan.utils.validation import check_choice

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageReadError', 'decode_image', 'to_float',
    'read_image', 'luminance', 'check_read_options'
]

#: File extensions (lower case) treated as images; others are ignored.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp')

#: ITU-R BT.601 luma weights for R, G, B: the formula of Pillow's
#: ``convert('L')``, which the reference implementation uses for gray input.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

ALPHA_MODES = ('composite', 'drop')

_EXIF_ORIENTATION = 0x0112
# Pillow modes that convert to RGB without losing information that the
# model could use.
_TO_RGB = ('RGBX', 'CMYK', 'YCbCr')


class ImageReadError(ValueError):
    """An image file that cannot be used, with its path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f'cannot read image {self.path!r}: {reason}')

    def __reduce__(self):  # keep (path, reason) across worker processes
        return (type(self), (self.path, self.reason))


def check_read_options(channels: int, alpha: str,
                       background: Sequence[float]) -> tuple:
    """Validate reading options; return ``background`` as a float tuple."""
    check_choice('channels', channels, (1, 3))
    check_choice('alpha', alpha, ALPHA_MODES)
    try:
        values = tuple(float(v) for v in background)
    except TypeError:
        raise TypeError('alpha_background must be 3 numbers in [0, 255], '
                        f'got {background!r}') from None
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError('alpha_background must be 3 numbers in [0, 255], '
                         f'got {background!r}')
    return values


def _png_bit_depth(path: str) -> int:
    # IHDR is always the first chunk: 8-byte signature, length, type,
    # width, height, then the bit depth byte at offset 24.
    with open(path, 'rb') as f:
        header = f.read(25)
    return header[24] if len(header) == 25 else 8


def _tiff_bit_depth(image: Image.Image) -> int:
    bits = getattr(image, 'tag_v2', {}).get(258, 8)
    if isinstance(bits, (tuple, list)):
        return max(bits) if bits else 8
    return int(bits)


def _is_high_depth(path: str, image: Image.Image) -> bool:
    if image.format == 'PNG':
        return _png_bit_depth(path) > 8
    if image.format == 'TIFF':
        return _tiff_bit_depth(image) > 8
    return False


def _orientation(image: Image.Image) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            value = image.getexif().get(_EXIF_ORIENTATION, 1)
        return int(value)
    except Exception:  # a broken EXIF block must not hide good pixels
        return 1


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright, as EXIF orientation 1..8 prescribes."""
    if orientation == 2:
        pixels = pixels[:, ::-1]
    elif orientation == 3:
        pixels = pixels[::-1, ::-1]
    elif orientation == 4:
        pixels = pixels[::-1]
    elif orientation == 5:
        pixels = pixels.transpose(1, 0, 2)
    elif orientation == 6:
        pixels = np.rot90(pixels, -1)
    elif orientation == 7:
        pixels = pixels[::-1, ::-1].transpose(1, 0, 2)
    elif orientation == 8:
        pixels = np.rot90(pixels, 1)
    return np.ascontiguousarray(pixels)


def _open(path: str, max_pixels: Optional[int]) -> Image.Image:
    if max_pixels is None:
        max_pixels = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # We apply our own limit below; Pillow's warning is redundant.
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as err:
        raise ImageReadError(
            path, f'refused as a possible decompression bomb ({err}); '
            'if the image is genuine, raise max_pixels and '
            'PIL.Image.MAX_IMAGE_PIXELS') from err
    except UnidentifiedImageError as err:
        raise ImageReadError(
            path, 'not a recognised image format (is it really an image, '
            'or a partial download?)') from err
    except Exception as err:  # a damaged header: OSError, SyntaxError, ...
        raise ImageReadError(
            path, f'damaged image header ({type(err).__name__}: {err})'
        ) from err
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        image.close()
        raise ImageReadError(
            path, f'refused as a possible decompression bomb: {width}x'
            f'{height} = {width * height} pixels exceeds max_pixels='
            f'{max_pixels}')
    return image


def _decode_with_pillow(path: str, image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode == '1':
        image = image.convert('L')
    elif mode in ('P', 'PA'):
        keep_alpha = mode == 'PA' or 'transparency' in image.info
        image = image.convert('RGBA' if keep_alpha else 'RGB')
    elif mode == 'La':
        image = image.convert('LA')
    elif mode == 'RGBa':
        image = image.convert('RGBA')
    elif mode in _TO_RGB:
        image = image.convert('RGB')
    elif mode.startswith('I;16'):
        image.load()
        pixels = np.asarray(image).astype(np.uint16)
        return pixels[..., None]
    elif mode not in ('L', 'LA', 'RGB', 'RGBA'):
        raise ImageReadError(
            path, f'unsupported pixel mode {mode!r}: only 8- and 16-bit '
            'integer images have a known value range; convert it to 8 or '
            '16 bits per channel')
    image.load()
    pixels = np.asarray(image)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _decode_with_opencv(path: str) -> np.ndarray:
    # imdecode on the bytes copes with any file name (spaces, non-ASCII).
    data = np.fromfile(path, dtype=np.uint8)
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ImageReadError(
            path, 'OpenCV could not decode this high-bit-depth image '
            '(truncated or corrupt file?)')
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(
            path, f'unsupported sample type {pixels.dtype}: only 8- and '
            '16-bit integer images have a known value range; convert it '
            'to 8 or 16 bits per channel')
    if pixels.ndim == 2:
        return pixels[..., None]
    if pixels.shape[2] == 3:
        return np.ascontiguousarray(pixels[..., ::-1])
    if pixels.shape[2] == 4:
        return np.ascontiguousarray(pixels[..., [2, 1, 0, 3]])
    return pixels


def decode_image(path: str,
                 max_pixels: Optional[int] = None
                 ) -> tuple[np.ndarray, int]:
    """Decode ``path`` fully; return ``(pixels, max_value)``.

    ``pixels`` is ``uint8`` (``max_value`` 255) or ``uint16`` (65535),
    shaped (H, W, C) with C in {1, 2, 3, 4} (gray, gray + alpha, RGB,
    RGBA), upright. ``max_pixels=None`` uses ``PIL.Image.MAX_IMAGE_PIXELS``.
    Raises :class:`ImageReadError` naming the file and the reason.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageReadError(path, 'no such file')
    if os.path.getsize(path) == 0:
        raise ImageReadError(path, 'empty file (0 bytes)')
    image = _open(path, max_pixels)
    try:
        orientation = _orientation(image)
        if _is_high_depth(path, image):
            pixels = _decode_with_opencv(path)
        else:
            pixels = _decode_with_pillow(path, image)
    except ImageReadError:
        raise
    except Exception as err:  # decoders raise OSError, SyntaxError, ...
        raise ImageReadError(path, f'{type(err).__name__}: {err}') from err
    finally:
        image.close()
    max_value = 65535 if pixels.dtype == np.uint16 else 255
    return _apply_orientation(pixels, orientation), max_value


def luminance(rgb: np.ndarray) -> np.ndarray:
    """``0.299 R + 0.587 G + 0.114 B`` over the last axis, keeping it."""
    weights = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    return (rgb @ weights)[..., None].astype(np.float32)


def _to_channels(values: np.ndarray, channels: int) -> np.ndarray:
    if values.shape[-1] == channels:
        return values
    if channels == 3:
        return np.repeat(values, 3, axis=-1)
    return luminance(values)


def to_float(pixels: np.ndarray,
             max_value: int,
             channels: int = 3,
             alpha: str = 'composite',
             background: Sequence[float] = (255, 255, 255)) -> np.ndarray:
    """Scale decoded pixels to float32 (H, W, ``channels``) in [-1, 1].

    Alpha (C = 2 or 4) is either composited over ``background`` (given in
    8-bit units, whatever the file's depth) with ``rgb * a + bg * (1 - a)``
    (``alpha='composite'``), or discarded (``'drop'``), which shows the
    colour stored under transparent pixels, often black. ``channels=3``
    repeats gray; ``channels=1`` takes the luminance
    ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, as Pillow's
    ``convert('L')``), computed in float so 16-bit precision survives.
    """
    background = check_read_options(channels, alpha, background)
    values = pixels.astype(np.float32) / np.float32(max_value)
    if values.shape[-1] in (2, 4):
        colour = _to_channels(values[..., :-1], channels)
        if alpha == 'composite':
            weight = values[..., -1:]
            bg = np.asarray(background, dtype=np.float32) / 255
            bg = bg if channels == 3 else luminance(bg)
            colour = colour * weight + bg * (1 - weight)
        values = colour
    else:
        values = _to_channels(values, channels)
    return np.clip(values * 2 - 1, -1, 1).astype(np.float32)


def read_image(path: str,
               channels: int = 3,
               alpha: str = 'composite',
               background: Sequence[float] = (255, 255, 255),
               max_pixels: Optional[int] = None) -> np.ndarray:
    """Read ``path`` as float32 (H, W, ``channels``) RGB/gray in [-1, 1].

    See :func:`decode_image` (formats, bit depth, errors) and
    :func:`to_float` (alpha and channel conversion).
    """
    pixels, max_value = decode_image(path, max_pixels)
    return to_float(pixels, max_value, channels, alpha, background)
