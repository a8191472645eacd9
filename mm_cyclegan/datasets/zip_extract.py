"""Unpack a zip archive safely: every member path stays inside the target
folder, and member count, unpacked sizes and compression ratio are capped
(:class:`ExtractLimits`; zip bombs) before the first byte is written.
"""
from __future__ import annotations

import os
import os.path as osp
import stat
import zipfile
import zlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import NamedTuple, Optional

from mm_cyclegan.utils.validation import check_number

__all__ = [
    'DEFAULT_LIMITS', 'DownloadError', 'ExtractLimits', 'check_limits',
    'safe_extract'
]

_CHUNK = 1 << 20  # bytes read at a time


class DownloadError(RuntimeError):
    """The archive could not be fetched, verified or unpacked."""


class ExtractLimits(NamedTuple):
    """Caps on what one archive may unpack to (``None``: no cap).

    ``max_ratio`` applies to the whole archive and to every member of at
    least ``ratio_floor`` bytes (small files such as text compress well
    and are bounded by the other caps anyway).
    """
    max_total_bytes: Optional[int] = 6 * 1024**3
    max_member_bytes: Optional[int] = 256 * 1024**2
    max_ratio: Optional[float] = 100.0
    max_members: Optional[int] = 200_000
    ratio_floor: int = 1024**2


#: The defaults. The datasets are JPEG/PNG images that zip cannot shrink
#: (ratio about 1.0); the largest official CycleGAN archive (maps) is
#: 1.48 GB with ~2.2k files, so 6 GiB in total is a 4x margin; a single
#: image above 256 MiB or a member 100x smaller packed than unpacked is
#: not a photo. The AnimeGAN archive's size cannot be checked from here;
#: it holds ~10k images of a few hundred kB, well inside these caps.
DEFAULT_LIMITS = ExtractLimits()


def _unsafe_reason(member: zipfile.ZipInfo, root: str) -> Optional[str]:
    name = member.filename
    if name.startswith(('/', '\\')) or PureWindowsPath(name).drive:
        return 'absolute path'
    parts = PurePosixPath(name.replace('\\', '/')).parts
    if '..' in parts:
        return "'..' component"
    if stat.S_ISLNK(member.external_attr >> 16):
        return 'symbolic link'
    target = osp.realpath(osp.join(root, name))
    if osp.commonpath([target, root]) != root:
        return 'resolves outside the target folder'
    return None


def check_limits(limits: ExtractLimits) -> ExtractLimits:
    """Return ``limits`` if every cap is a positive number or ``None``."""
    if not isinstance(limits, ExtractLimits):
        raise TypeError(f'limits must be an ExtractLimits, got {limits!r}')
    for key, value in limits._asdict().items():
        if value is None and key != 'ratio_floor':
            continue
        # check_number's minimum is inclusive; a cap of 0 is refused too.
        if check_number(key, value) <= 0:
            raise ValueError(f'{key} must be a positive number or None, '
                             f'got {value!r}')
    return limits


def _over(size: float, cap: Optional[float]) -> bool:
    return cap is not None and size > cap


def _check_declared(zf: zipfile.ZipFile, archive: str,
                    limits: ExtractLimits) -> None:
    """Refuse from the central directory, before writing anything."""
    members = zf.infolist()
    if _over(len(members), limits.max_members):
        raise DownloadError(
            f'refusing to extract {archive!r}: {len(members)} members, '
            f'more than max_members={limits.max_members}')
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if _over(size, limits.max_member_bytes):
            raise DownloadError(
                f'refusing to extract {archive!r}: member '
                f'{member.filename!r} unpacks to {size} bytes, more than '
                f'max_member_bytes={limits.max_member_bytes}')
        ratio = size / max(member.compress_size, 1)
        if size >= limits.ratio_floor and _over(ratio, limits.max_ratio):
            raise DownloadError(
                f'refusing to extract {archive!r}: member '
                f'{member.filename!r} unpacks {ratio:.0f}x ({size} bytes '
                f'from {member.compress_size}), more than '
                f'max_ratio={limits.max_ratio:g} (zip bomb?)')
    if _over(total, limits.max_total_bytes):
        raise DownloadError(
            f'refusing to extract {archive!r}: it unpacks to {total} bytes, '
            f'more than max_total_bytes={limits.max_total_bytes}')
    packed = max(osp.getsize(archive), 1)
    if total >= limits.ratio_floor and _over(total / packed,
                                             limits.max_ratio):
        raise DownloadError(
            f'refusing to extract {archive!r}: it unpacks '
            f'{total / packed:.0f}x ({total} bytes from {packed}), more '
            f'than max_ratio={limits.max_ratio:g} (zip bomb?)')


def _extract_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo,
                    root: str, budget: Optional[int]) -> int:
    """Stream one member to disk, counting the bytes really written (the
    declared sizes are checked first but a crafted archive may lie)."""
    target = osp.join(root, member.filename)
    if member.is_dir():
        os.makedirs(target, exist_ok=True)
        return 0
    os.makedirs(osp.dirname(target), exist_ok=True)
    cap = member.file_size
    written = 0
    with zf.open(member) as src, open(target, 'wb') as out:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > cap or (budget is not None and written > budget):
                raise DownloadError(
                    f'member {member.filename!r} unpacks to more bytes than '
                    'declared or allowed; refusing the archive')
            out.write(chunk)
    return written


def safe_extract(archive: str, target: str,
                 limits: ExtractLimits = DEFAULT_LIMITS) -> None:
    """Unpack the zip ``archive`` into ``target``, refusing any member that
    could land outside it (absolute paths, '..', symbolic links) and
    archives over ``limits`` (member count, unpacked sizes, compression
    ratio), all checked before the first byte is written.

    On refusal ``target`` may hold part of the archive: unpack into a
    temporary folder (as :func:`download_dataset` does).
    """
    limits = check_limits(limits)
    root = osp.realpath(target)
    os.makedirs(root, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                reason = _unsafe_reason(member, root)
                if reason:
                    raise DownloadError(
                        f'refusing to extract {archive!r}: member '
                        f'{member.filename!r} is unsafe ({reason})')
            _check_declared(zf, archive, limits)
            budget = limits.max_total_bytes
            for member in zf.infolist():
                written = _extract_member(zf, member, root, budget)
                if budget is not None:
                    budget -= written
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error,
            NotImplementedError) as err:
        raise DownloadError(
            f'{archive!r} is not a valid zip archive: {err}') from err
    except OSError as err:  # e.g. disk full, a member named like a folder
        raise DownloadError(f'cannot unpack {archive!r}: {err}') from err
