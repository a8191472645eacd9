"""Check an uploaded file before anything else happens to it.

No web framework here, so the rules are testable on their own: size in
bytes, then the image checks of :mod:`mm_cyclegan.datasets.image_io`
(format, empty file, pixel count from the header before decoding, i.e. the
decompression-bomb check). The bytes are written only to a fresh directory
inside the server's own temporary directory, under a fixed name (never the
client's file name), and removed before this function returns.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np

from mm_cyclegan.datasets.image_io import ImageReadError, decode_image

__all__ = ['UploadLimits', 'UploadRejected', 'decode_upload']

#: Default limits: a 20 MB file and 4096 x 4096 pixels (a translation of
#: that size takes tens of seconds on a laptop CPU; larger is refused).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PIXELS = 4096 * 4096


def _megabytes(num_bytes: int) -> str:
    return f'{num_bytes / (1024 * 1024):.1f} MB'


@dataclass(frozen=True)
class UploadLimits:
    """What the server accepts: at most ``max_bytes`` and ``max_pixels``."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        for name in ('max_bytes', 'max_pixels'):
            value = getattr(self, name)
            if (not isinstance(value, (int, np.integer))
                    or isinstance(value, bool) or value < 1):
                raise ValueError(
                    f'{name} must be a positive integer, got {value!r}')

    def describe(self) -> str:
        """One line for the page: the limits in human units."""
        return (f'at most {_megabytes(self.max_bytes)} and '
                f'{self.max_pixels:,} pixels')


class UploadRejected(ValueError):
    """An upload the server will not translate; ``message`` is for users.

    ``status`` is the HTTP status the page receives: 400 (empty), 413
    (too many bytes) or 422 (not a usable image, too many pixels).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


def check_size(num_bytes: int, limits: UploadLimits) -> None:
    """Refuse an empty body or one above ``limits.max_bytes``."""
    if num_bytes == 0:
        raise UploadRejected('The file is empty (0 bytes): nothing to '
                             'translate.')
    if num_bytes > limits.max_bytes:
        raise UploadRejected(
            f'The file is too large: more than '
            f'{_megabytes(limits.max_bytes)} '
            f'({limits.max_bytes:,} bytes), the limit of this server '
            '(serve.py --max-bytes).', status=413)


def decode_upload(data: bytes, limits: UploadLimits,
                  tmp_root: str) -> tuple[np.ndarray, int]:
    """Decode uploaded bytes; return ``(pixels, max_value)``.

    ``pixels`` is what :func:`~mm_cyclegan.datasets.image_io.decode_image`
    returns (uint8/uint16, H x W x C, upright). Raises
    :class:`UploadRejected` with a message for the page when the upload is
    empty, too large, not an image, above ``limits.max_pixels`` (checked
    from the header, before decoding) or damaged.
    """
    check_size(len(data), limits)
    with tempfile.TemporaryDirectory(prefix='upload-',
                                     dir=tmp_root) as folder:
        path = os.path.join(folder, 'upload')
        with open(path, 'wb') as f:
            f.write(data)
        try:
            return decode_image(path, max_pixels=limits.max_pixels)
        except ImageReadError as err:
            raise UploadRejected(
                f'This file cannot be translated: {err.reason}. This '
                f'server accepts images of {limits.describe()} '
                '(serve.py --max-pixels, --max-bytes).',
                status=422) from None
