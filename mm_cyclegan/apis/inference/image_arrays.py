"""Pixels in and out of a generator: uint8/uint16 arrays, PIL images.

Input pixels go to the network as the training data did
(:func:`mm_cyclegan.datasets.image_io.to_float`: scaled by their bit depth
to [-1, 1], alpha composited on white, gray repeated or RGB reduced to
luminance to match the domain's channels). Outputs come back at the input's
bit depth, with the input's alpha channel re-attached.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch import Tensor

from mm_cyclegan.datasets.image_io import to_float
from mm_cyclegan.datasets.padding import padding_for
from mm_cyclegan.utils.validation import check_int

__all__ = [
    'pil_to_array', 'array_to_pil', 'check_pixels', 'split_alpha',
    'merge_alpha', 'resize_max_side', 'to_network', 'from_network',
    'match_channels', 'encode_image', 'pad_tensor'
]

# Pillow modes and what they become (8 bit unless noted).
_PIL_CONVERT = {
    '1': 'L', 'P': None, 'PA': 'RGBA', 'La': 'LA', 'RGBa': 'RGBA',
    'RGBX': 'RGB', 'CMYK': 'RGB', 'YCbCr': 'RGB', 'LAB': 'RGB',
    'HSV': 'RGB',
}
_PIL_16BIT = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')


def check_pixels(pixels: np.ndarray) -> np.ndarray:
    """Validate an image array: uint8/uint16, (H, W) or (H, W, 1..4)."""
    if not isinstance(pixels, np.ndarray):
        raise TypeError(f'expected a numpy array, got {type(pixels).__name__}')
    if pixels.dtype not in (np.uint8, np.uint16):
        raise TypeError(
            f'image arrays must be uint8 or uint16 (H, W, C) RGB, got '
            f'dtype {pixels.dtype}; pass float images as an (N, C, H, W) '
            'torch tensor in [-1, 1]')
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4) or \
            pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(
            'image arrays must be (H, W) or (H, W, C) with C in 1..4 (gray, '
            f'gray+alpha, RGB, RGBA), got shape {pixels.shape}')
    return pixels


def max_value(pixels: np.ndarray) -> int:
    """The full-scale value of the array's dtype."""
    return 65535 if pixels.dtype == np.uint16 else 255


def pil_to_array(image: Image.Image) -> np.ndarray:
    """A PIL image as an upright uint8/uint16 (H, W, C) array (RGB order).

    EXIF orientation is applied; palette images keep their transparency;
    16-bit gray (``I;16``) stays 16 bit.
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f'expected a PIL image, got {type(image).__name__}')
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in _PIL_16BIT:
        pixels = np.asarray(image)
        if mode == 'I':
            pixels = np.clip(pixels, 0, 65535)
        return pixels.astype(np.uint16)[:, :, None]
    if mode == 'F':
        raise TypeError('PIL mode F (float) images are not supported; pass '
                        'a (N, C, H, W) tensor in [-1, 1]')
    if mode in _PIL_CONVERT:
        target = _PIL_CONVERT[mode]
        if target is None:  # palette: keep transparency if it has any
            target = 'RGBA' if 'transparency' in image.info else 'RGB'
        image = image.convert(target)
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return np.ascontiguousarray(pixels)


def array_to_pil(pixels: np.ndarray) -> Image.Image:
    """A uint8/uint16 (H, W, C) array as a PIL image.

    16-bit gray becomes ``I;16``; 16-bit colour, which Pillow cannot hold,
    is reduced to 8 bit.
    """
    pixels = check_pixels(pixels)
    if pixels.dtype == np.uint16:
        if pixels.shape[2] == 1:
            # Pillow picks I;16 for a 2-D uint16 array.
            return Image.fromarray(np.ascontiguousarray(pixels[:, :, 0]))
        pixels = to_uint8(pixels)
    # Pillow picks L / LA / RGB / RGBA from the uint8 array's shape.
    data = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    return Image.fromarray(np.ascontiguousarray(data))


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """16-bit pixels rounded to 8 bit (8-bit pixels unchanged)."""
    if pixels.dtype == np.uint8:
        return pixels
    return np.round(pixels.astype(np.float32) / 257).astype(np.uint8)


def split_alpha(pixels: np.ndarray) -> tuple:
    """``(pixels, alpha)`` where alpha is the last channel of C = 2 or 4.

    ``pixels`` keeps its alpha (the conversion to the network composites
    it); ``alpha`` is ``None`` for images without one.
    """
    if pixels.shape[2] in (2, 4):
        return pixels, pixels[:, :, -1:]
    return pixels, None


def merge_alpha(colour: np.ndarray, alpha: Optional[np.ndarray]
                ) -> np.ndarray:
    """Append ``alpha`` (rescaled to ``colour``'s depth) as last channel."""
    if alpha is None:
        return colour
    if alpha.dtype != colour.dtype:
        scale = max_value(colour) / max_value(alpha)
        alpha = np.round(alpha.astype(np.float64) * scale).astype(
            colour.dtype)
    return np.concatenate([colour, alpha], axis=2)


def resize_max_side(pixels: np.ndarray, max_side: Optional[int]
                    ) -> np.ndarray:
    """Downscale so the longer side is at most ``max_side`` (aspect kept).

    Area interpolation (no aliasing); smaller images are returned as is.
    """
    if max_side is None:
        return pixels
    check_int('max_side', max_side, minimum=1)
    height, width = pixels.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return pixels
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    return resized


def to_network(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Float32 (H, W, ``channels``) in [-1, 1], as the dataset reads it."""
    return to_float(pixels, max_value(pixels), channels=channels)


def from_network(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float (H, W, C) in [-1, 1] -> rounded uint8/uint16 pixels."""
    full = 65535 if np.dtype(dtype) == np.uint16 else 255
    scaled = (np.clip(values, -1, 1) + 1) * (full / 2)
    return np.round(scaled).astype(dtype)


def match_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Gray <-> RGB (alpha dropped), for showing images side by side."""
    colour = pixels[:, :, :3] if pixels.shape[2] in (3, 4) else \
        pixels[:, :, :1]
    if colour.shape[2] == channels:
        return colour
    if channels == 3:
        return np.repeat(colour, 3, axis=2)
    weights = np.asarray((0.299, 0.587, 0.114), dtype=np.float32)
    gray = colour.astype(np.float32) @ weights
    return np.round(gray)[:, :, None].astype(pixels.dtype)


def encode_image(pixels: np.ndarray, ext: str, quality: int = 95) -> bytes:
    """Encode an RGB(A)/gray uint8/uint16 array as PNG or JPEG bytes.

    JPEG holds neither 16 bit nor alpha: it gets 8-bit colour without
    alpha. Gray + alpha is written as RGBA PNG.
    """
    channels = pixels.shape[2]
    if ext == 'jpg':
        pixels = to_uint8(pixels)
        if channels in (2, 4):
            pixels, channels = pixels[:, :, :channels - 1], channels - 1
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    else:
        params = []
    if channels == 2:
        gray, alpha = pixels[:, :, :1], pixels[:, :, 1:]
        pixels, channels = np.concatenate([gray, gray, gray, alpha], 2), 4
    if channels == 3:
        pixels = pixels[:, :, ::-1]
    elif channels == 4:
        pixels = pixels[:, :, [2, 1, 0, 3]]
    else:
        pixels = pixels[:, :, 0]
    ok, data = cv2.imencode('.' + ext, np.ascontiguousarray(pixels), params)
    if not ok:
        raise OSError(f'OpenCV could not encode a {ext} image of shape '
                      f'{pixels.shape}')
    return data.tobytes()


def pad_tensor(batch: Tensor, multiple: int,
                minimum: int = 1) -> tuple[Tensor, tuple]:
    """Reflect-pad (N, C, H, W) to ``multiple`` like the dataset's
    :func:`~mm_cyclegan.datasets.padding.pad_array`; return the padded batch
    and ``(top, bottom, left, right)``."""
    height, width = batch.shape[-2:]
    top, bottom, left, right = padding_for(height, width, multiple, minimum)
    if not any((top, bottom, left, right)):
        return batch, (0, 0, 0, 0)
    if max(top, bottom) < height and max(left, right) < width:
        padded = F.pad(batch, (left, right, top, bottom), mode='reflect')
    else:
        # Padding longer than the image: numpy reflects repeatedly, as the
        # dataset's pad_to_multiple does.
        mode = 'reflect' if min(height, width) > 1 else 'edge'
        array = np.pad(batch.detach().float().cpu().numpy(),
                       ((0, 0), (0, 0), (top, bottom), (left, right)),
                       mode=mode)  # type: ignore[call-overload]
        padded = torch.from_numpy(array).to(batch)
    return padded, (top, bottom, left, right)
