"""The start-up scan: list a domain's images and decode each one once.

Problems are found before training starts: a missing folder, a folder with
no images, and every file that cannot be decoded (truncated, empty, not an
image, a decompression bomb, an unsupported bit depth, too small for the
crop), each with its reason.
"""
from __future__ import annotations

import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

from .image_io import IMAGE_EXTENSIONS, ImageReadError, decode_image

__all__ = [
    'ScanResult', 'BadImageFilesError', 'list_image_files', 'scan_folder',
    'PROGRESS_THRESHOLD'
]

#: Folders with more files than this show a progress bar while scanned.
PROGRESS_THRESHOLD = 2000

SizeCheck = Callable[[int, int], Optional[str]]


@dataclass
class ScanResult:
    """What a folder holds: usable images (sorted) and rejected files."""

    folder: str
    files: list[str] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0


class BadImageFilesError(ValueError):
    """Files that cannot be used; ``bad`` holds ``(path, reason)`` pairs."""

    def __init__(self, bad: list[tuple[str, str]]) -> None:
        self.bad = list(bad)
        lines = [f'  {path}: {reason}' for path, reason in self.bad]
        super().__init__(
            f'{len(self.bad)} image file(s) cannot be used:\n' +
            '\n'.join(lines) + '\nFix or remove them, or pass '
            'skip_bad_files=True to leave them out (they are then logged).')

    def __reduce__(self):
        return (type(self), (self.bad, ))


def _is_image_name(name: str) -> bool:
    return (not name.startswith('.')
            and osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS)


def list_image_files(folder: str) -> tuple[list[str], int]:
    """Image files under ``folder``, recursively, sorted by relative path.

    Symbolic links to folders are followed; a link back into a folder
    already visited (a loop, or a second path to the same folder) is not
    entered again and is counted as ignored. Hidden files and folders
    (names starting with '.') and files with other extensions are skipped;
    their number is returned second.
    """
    found = []
    ignored = 0
    visited = {osp.realpath(folder)}
    for root, dirs, names in os.walk(folder, followlinks=True):
        ignored += sum(d.startswith('.') for d in dirs)
        kept = []
        for name in dirs:
            real = osp.realpath(osp.join(root, name))
            if name.startswith('.'):
                continue
            if real in visited:
                ignored += 1
                continue
            visited.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in names:
            if _is_image_name(name):
                found.append(osp.relpath(osp.join(root, name), folder))
            else:
                ignored += 1
    return [osp.join(folder, rel) for rel in sorted(found)], ignored


def _progress(total: int):
    if total <= PROGRESS_THRESHOLD:
        return None
    from mmengine.utils import ProgressBar

    # ProgressBar's default stream is sys.stdout as it was at import time.
    return ProgressBar(total, file=sys.stdout)


def scan_folder(folder: str,
                label: str = 'image',
                hint: str = '',
                max_pixels: Optional[int] = None,
                size_check: Optional[SizeCheck] = None) -> ScanResult:
    """List and decode every image in ``folder`` once.

    Args:
        folder: The folder to scan.
        label: Names the folder in errors, e.g. ``"domain A ('trainA')"``.
        hint: Appended to the missing-folder error (what layout is
            expected, how to get the data).
        max_pixels: Decompression-bomb limit, see
            :func:`~.image_io.decode_image`.
        size_check: ``(height, width) -> reason or None``, e.g. rejecting
            images smaller than the crop.

    Raises:
        FileNotFoundError: ``folder`` does not exist (naming it).
        ValueError: ``folder`` holds no image files.
    Unreadable files do not raise; they are returned in ``bad``.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{label} folder not found: {folder!r}. {hint}'.rstrip())
    files, ignored = list_image_files(folder)
    if not files:
        raise ValueError(
            f'{label} folder {folder!r} contains no images (looked for '
            f'{", ".join(IMAGE_EXTENSIONS)}, case-insensitive; '
            f'{ignored} other entries ignored)')
    result = ScanResult(folder=folder, ignored=ignored)
    bar = _progress(len(files))
    for path in files:
        try:
            pixels, _ = decode_image(path, max_pixels)
            height, width = pixels.shape[:2]
            problem = size_check(height, width) if size_check else None
            if problem:
                raise ImageReadError(path, problem)
        except ImageReadError as err:
            result.bad.append((path, err.reason))
        else:
            result.files.append(path)
            result.sizes.append((height, width))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')  # the bar leaves the cursor on its line
    return result
