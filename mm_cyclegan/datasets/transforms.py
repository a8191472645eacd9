"""Pre-processing of one image, as the reference's ``--preprocess`` modes.

Images are float32 (H, W, C) arrays in [-1, 1] (see :mod:`.image_io`); every
random choice comes from the ``numpy.random.Generator`` passed in, never
from global state. Modes (``load_size`` L, ``crop_size`` S):

* ``resize_and_crop``: resize to L x L, random S x S crop (the default);
* ``crop``: random S x S crop, images smaller than S are rejected;
* ``scale_width``: width to L, height scaled to keep the aspect ratio but
  at least S (an image already L wide and at least S tall is kept);
* ``scale_width_and_crop``: ``scale_width`` then a random S x S crop;
* ``none``: no resize; reflect-pad to a multiple of 4 (the generators halve
  the size twice) and return the padding so outputs can be cropped back.

Then a random horizontal flip (``flip``) and vertical flip (``vflip``),
each with probability 0.5. Resizing is bicubic with Pillow's antialiasing
filter (the reference's choice), done on float data so that 16-bit
precision survives, and clipped back to [-1, 1].
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image

from mm_cyclegan.utils.validation import check_choice, check_int

from .padding import pad_array, padding_for

__all__ = [
    'PREPROCESS_MODES', 'Padding', 'resize', 'scale_width', 'random_crop',
    'pad_to_multiple', 'random_flip', 'Preprocess'
]

PREPROCESS_MODES = ('resize_and_crop', 'crop', 'scale_width',
                    'scale_width_and_crop', 'none')

#: (top, bottom, left, right) pixels added by ``pad_to_multiple``.
Padding = tuple[int, int, int, int]

NO_PADDING: Padding = (0, 0, 0, 0)

#: preprocess='none' pads images to multiples of this (the stride of the
#: ResNet generators' two downsamplings).
PAD_MULTIPLE = 4


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bicubic resize of a float (H, W, C) image to ``height`` x ``width``.

    Each channel is resized as a Pillow 32-bit float image, which keeps
    full precision and antialiases when shrinking.
    """
    if image.shape[:2] == (height, width):
        return image
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(image[..., c])).resize(
                (width, height), Image.Resampling.BICUBIC))
        for c in range(image.shape[2])
    ]
    return np.clip(np.stack(channels, axis=-1), -1, 1).astype(np.float32)


def scale_width(image: np.ndarray, load_size: int,
                crop_size: int) -> np.ndarray:
    """Width to ``load_size``; height keeps the aspect, at least
    ``crop_size``."""
    height, width = image.shape[:2]
    if width == load_size and height >= crop_size:
        return image
    new_height = int(max(load_size * height / width, crop_size))
    return resize(image, new_height, load_size)


def random_crop(image: np.ndarray,
                size: int,
                rng: np.random.Generator,
                path: str = '') -> np.ndarray:
    """A ``size`` x ``size`` crop at a position drawn from ``rng``."""
    height, width = image.shape[:2]
    if height < size or width < size:
        where = f'image {path!r}' if path else 'image'
        raise ValueError(
            f'{where} is {width}x{height} (width x height), smaller than '
            f'crop_size={size}; use preprocess="resize_and_crop" or '
            '"scale_width_and_crop", or a smaller crop_size')
    top = int(rng.integers(0, height - size + 1))
    left = int(rng.integers(0, width - size + 1))
    return image[top:top + size, left:left + size]


def pad_to_multiple(image: np.ndarray,
                    base: int = 4) -> tuple[np.ndarray, Padding]:
    """Reflect-pad height and width up to multiples of ``base``.

    The padding is split evenly (the extra pixel goes to the bottom or
    right) and returned as ``(top, bottom, left, right)``.
    """
    padding = padding_for(image.shape[0], image.shape[1], base)
    if not any(padding):
        return image, NO_PADDING
    return pad_array(image, padding), padding


def random_flip(image: np.ndarray,
                rng: np.random.Generator,
                horizontal: bool = True,
                vertical: bool = False) -> np.ndarray:
    """Flip left-right, then top-bottom, each with probability 0.5.

    A draw is made only for an enabled flip, horizontal first.
    """
    if horizontal and rng.random() < 0.5:
        image = image[:, ::-1]
    if vertical and rng.random() < 0.5:
        image = image[::-1]
    return image


class Preprocess:
    """One ``--preprocess`` mode plus flips, applied to one image.

    Args:
        mode: One of :data:`PREPROCESS_MODES`.
        load_size: Size resized to before cropping (the reference's
            ``--load_size``; 286 for 256 crops).
        crop_size: Side of the random square crop.
        flip: Random horizontal flip.
        vflip: Random vertical flip.
    """

    def __init__(self,
                 mode: str = 'resize_and_crop',
                 load_size: int = 286,
                 crop_size: int = 256,
                 flip: bool = True,
                 vflip: bool = False) -> None:
        self.mode = check_choice('preprocess', mode, PREPROCESS_MODES)
        self.load_size = check_int('load_size', load_size, 1)
        self.crop_size = check_int('crop_size', crop_size, 1)
        if mode in ('resize_and_crop', 'scale_width_and_crop') and \
                load_size < crop_size:
            raise ValueError(
                f'preprocess={mode!r} needs load_size >= crop_size, got '
                f'load_size={load_size}, crop_size={crop_size}')
        self.flip = bool(flip)
        self.vflip = bool(vflip)

    def size_problem(self, height: int, width: int) -> Optional[str]:
        """Why an image of this size cannot be processed, or ``None``."""
        if self.mode == 'crop' and min(height, width) < self.crop_size:
            return (f'image is {width}x{height} (width x height), smaller '
                    f'than crop_size={self.crop_size} required by '
                    'preprocess="crop"')
        return None

    def __call__(self,
                 image: np.ndarray,
                 rng: np.random.Generator,
                 path: str = '') -> tuple[np.ndarray, Padding]:
        """Return the processed image (contiguous) and its padding."""
        size = self.crop_size
        if self.mode == 'resize_and_crop':
            image = resize(image, self.load_size, self.load_size)
        elif self.mode.startswith('scale_width'):
            image = scale_width(image, self.load_size, size)
        if self.mode.endswith('crop'):
            image = random_crop(image, size, rng, path)
        image = random_flip(image, rng, self.flip, self.vflip)
        padding = NO_PADDING
        if self.mode == 'none':
            # Padding after flipping, so it describes the returned image.
            image, padding = pad_to_multiple(image, PAD_MULTIPLE)
        return np.ascontiguousarray(image), padding

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, load_size='
                f'{self.load_size}, crop_size={self.crop_size}, flip='
                f'{self.flip}, vflip={self.vflip})')
