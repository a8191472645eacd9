"""Fetch a CycleGAN dataset archive and unpack it into ``<root>/<name>/``.
The command line is ``tools/download_dataset.py``.

The archive goes to a temporary folder inside ``root`` (same file system),
is checked (size against ``Content-Length`` and the known size, sha256 when
known or given), unpacked there with every member path checked to stay
inside and the unpacked sizes capped (:data:`DEFAULT_LIMITS`: zip bombs),
and only then renamed to ``<root>/<name>``: an interrupted or refused run
never leaves a half-filled dataset folder behind, and running it again
starts afresh.

``photo2anime`` is the AnimeGAN training set, re-laid out the CycleGAN way
(:mod:`.anime_layout`).
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import os.path as osp
import re
import shutil
import stat
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import NamedTuple, Optional, Sequence

from . import anime_layout

__all__ = [
    'KNOWN_DATASETS', 'KNOWN_ARCHIVES', 'DEFAULT_LIMITS', 'DownloadError',
    'ExtractLimits', 'dataset_url', 'fetch', 'safe_extract',
    'download_dataset', 'main', 'parse_size'
]

URL_TEMPLATE = 'https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip'

#: The names of the reference's ``download_cyclegan_dataset.sh``.
CYCLEGAN_DATASETS = ('apple2orange', 'summer2winter_yosemite', 'horse2zebra',
                     'monet2photo', 'cezanne2photo', 'ukiyoe2photo',
                     'vangogh2photo', 'maps', 'cityscapes', 'facades',
                     'iphone2dslr_flower', 'ae_photos')
#: Every name ``tools/download_dataset.py`` knows.
KNOWN_DATASETS = CYCLEGAN_DATASETS + (anime_layout.NAME, )

#: (size in bytes, sha256) of the official archives as recorded by
#: TensorFlow Datasets (``url_checksums/cycle_gan.txt``, fetched from the
#: authors' earlier mirror of the same files). Not re-checked here (no
#: network); if the host ever re-packs an archive, pass ``--sha256``.
KNOWN_ARCHIVES = {
    'apple2orange': (78456409, '845a191e9af8926408ea597001cd03a4'
                     '52e3300a1f44a79fe329b3d59f6e3eb8'),
    'cezanne2photo': (279885071, '3a6c10ca21f9485862f1cbd707744b9d'
                      'c258954a04631271d23a3605eeb63cff'),
    'cityscapes': (279601602, 'd2f6910fd056c1ee9873777ae838e7ac'
                   '4a2c833598ae62a04188e5ab2f4ea036'),
    'facades': (35135868, '9a31ebf3a31b9b5cd195dd5bf62e9308'
                'e00cb94604d1019e3889ac84248695c0'),
    'horse2zebra': (116867962, 'a74d9d392eecca9966b51287a76ca126'
                    'af473d9de4f3e8fc0e9cda08fa1730a1'),
    'iphone2dslr_flower': (339964458, '8fcb5e374d631b107e1d961b8c4cd0a1'
                           '86aa2a4ff3e279923f4c426128de7113'),
    'maps': (1476754427, '639534f69dbf9f36bef8d6292a769800'
             '6361221f83f0285d7c9ca78afe6e8a9e'),
    'monet2photo': (305231073, '88f91b00fc228f97c9411fbf1880ec1d'
                    '119c98f1722e4cfcfaa2fb35fac05b04'),
    'summer2winter_yosemite': (132640856, '167fe1726807a9d22bd106b4a6c0bd79'
                               '53b688af924ac1bf967439c4961e49f9'),
    'ukiyoe2photo': (292946532, '02a2a2fb5ecf425ca1bf86aca7304377'
                     'da64a2a1d3b86df54eb65e4068bf3b08'),
    'vangogh2photo': (306590349, '362c3473e70be0944bda08d49d660eaf'
                      'dc2854df55d697835b8186d1d79caaff'),
}

LAYOUT = ('trainA', 'trainB', 'testA', 'testB')


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
_SIZE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$', re.I)

_CHUNK = 1 << 20
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
_HEX64 = re.compile(r'^[0-9a-fA-F]{64}$')


class DownloadError(RuntimeError):
    """The archive could not be fetched, verified or unpacked."""


def dataset_url(name: str) -> str:
    """The official URL of a known dataset; ValueError for other names."""
    if name not in KNOWN_DATASETS:
        raise ValueError(
            f'unknown dataset {name!r}; known: {", ".join(KNOWN_DATASETS)}'
            ' (or pass --url to download another archive)')
    if name == anime_layout.NAME:
        return anime_layout.URL
    return URL_TEMPLATE.format(name)


def fetch(url: str,
          destination: str,
          expected_size: Optional[int] = None,
          sha256: Optional[str] = None,
          progress: bool = True,
          timeout: float = 60.0) -> str:
    """Download ``url`` to ``destination``; return the sha256 hex digest.

    Raises :class:`DownloadError` on HTTP/network errors, a body shorter or
    longer than ``Content-Length`` or ``expected_size``, or a sha256
    different from ``sha256``.
    """
    from tqdm import tqdm
    digest = hashlib.sha256()
    received = 0
    announced = None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            header = response.headers.get('Content-Length')
            announced = int(header) if header and header.isdigit() else None
            total = announced if announced is not None else expected_size
            with open(destination, 'wb') as out, tqdm(
                    total=total,
                    unit='B',
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=osp.basename(destination),
                    disable=not progress) as bar:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        raise DownloadError(
            f'HTTP error {err.code} ({err.reason}) for {url}') from err
    except urllib.error.URLError as err:
        raise DownloadError(f'cannot reach {url}: {err.reason}') from err
    except http.client.IncompleteRead as err:
        raise DownloadError(
            f'connection closed early while downloading {url}: got '
            f'{received + len(err.partial)} bytes, expected '
            f'{announced}') from err
    except (OSError, http.client.HTTPException) as err:
        raise DownloadError(f'download of {url} failed: {err}') from err
    for what, size in (('Content-Length', announced),
                       ('the known archive size', expected_size)):
        if size is not None and received != size:
            raise DownloadError(
                f'size mismatch for {url}: received {received} bytes, '
                f'{what} says {size}')
    actual = digest.hexdigest()
    if sha256 is not None and actual != sha256.lower():
        raise DownloadError(
            f'sha256 mismatch for {url}: got {actual}, expected '
            f'{sha256.lower()}. The file is corrupt or was changed; '
            'if you trust the new file, pass its checksum with --sha256.')
    return actual


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


def parse_size(text: str) -> int:
    """``'6G'``, ``'256M'``, ``'1.5GiB'``, ``'4096'`` -> bytes (powers of
    1024); ValueError naming the text otherwise."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f'not a size: {text!r} (e.g. 4096, 256M, 6G)')
    power = ' KMGT'.index((match.group(2) or ' ').upper())
    return int(float(match.group(1)) * 1024**power)


def _check_limits(limits: ExtractLimits) -> ExtractLimits:
    if not isinstance(limits, ExtractLimits):
        raise TypeError(f'limits must be an ExtractLimits, got {limits!r}')
    for key, value in limits._asdict().items():
        if value is None and key != 'ratio_floor':
            continue
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or value <= 0):
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
    limits = _check_limits(limits)
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


def _content_folder(extracted: str) -> str:
    # The official archives hold one top-level '<name>/' folder.
    entries = [e for e in os.listdir(extracted) if e != '__MACOSX']
    if len(entries) == 1 and osp.isdir(osp.join(extracted, entries[0])):
        return osp.join(extracted, entries[0])
    return extracted


def download_dataset(name: str,
                     root: str = 'data',
                     url: Optional[str] = None,
                     sha256: Optional[str] = None,
                     force: bool = False,
                     progress: bool = True,
                     timeout: float = 60.0,
                     style: Optional[str] = None,
                     limits: ExtractLimits = DEFAULT_LIMITS) -> str:
    """Download and unpack dataset ``name`` into ``<root>/<name>``.

    Args:
        name: A name of :data:`KNOWN_DATASETS`, or any folder name with
            ``url``.
        root: Folder that receives ``<name>/``.
        url: Archive URL overriding the official one.
        sha256: Expected checksum; by default the known one for official
            URLs, none for others (then the digest is printed).
        force: Replace an existing ``<root>/<name>``.
        progress: Show a progress bar.
        timeout: Network timeout in seconds.
        style: ``photo2anime`` only: ``'hayao'`` (default), ``'shinkai'``
            or ``'paprika'`` (:mod:`.anime_layout`).
        limits: Caps on the unpacked archive (:class:`ExtractLimits`).

    Returns the dataset folder. Raises ValueError (bad name, style or
    checksum format), FileExistsError (folder exists without ``force``) or
    :class:`DownloadError`.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f'dataset name must be a plain folder name, got '
                         f'{name!r}')
    anime = name == anime_layout.NAME
    if style is not None and not anime:
        raise ValueError(f'style={style!r} is only for '
                         f'{anime_layout.NAME}, not {name!r}')
    if anime:
        style = style or 'hayao'
        if style not in anime_layout.STYLES:
            raise ValueError(f'style must be one of '
                             f'{", ".join(anime_layout.STYLES)}, got '
                             f'{style!r}')
    limits = _check_limits(limits)
    expected_size = None
    if url is None:
        url = dataset_url(name)
        expected_size, known_sha = KNOWN_ARCHIVES.get(name, (None, None))
        sha256 = sha256 or known_sha
    if sha256 is not None and not _HEX64.match(sha256):
        raise ValueError(f'sha256 must be 64 hex digits, got {sha256!r}')
    final = osp.join(root, name)
    if osp.exists(final) and not force:
        raise FileExistsError(
            f'{final!r} already exists; pass --force (force=True) to '
            'replace it')
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f'.{name}-download-', dir=root)
    try:
        archive = osp.join(work, f'{name}.zip')
        digest = fetch(url, archive, expected_size, sha256, progress,
                       timeout)
        if sha256 is None:
            print(f'sha256 of the downloaded archive (not checked: none '
                  f'known): {digest}')
        extracted = osp.join(work, 'extracted')
        safe_extract(archive, extracted, limits)
        os.remove(archive)  # free the space before the rename
        if anime:
            content = osp.join(work, 'laid-out')
            try:
                anime_layout.lay_out(extracted, content, str(style))
            except FileNotFoundError as err:
                raise DownloadError(f'{url}: {err}') from err
        else:
            content = _content_folder(extracted)
        missing = [d for d in LAYOUT if not osp.isdir(osp.join(content, d))]
        if missing:
            print(f'warning: {url} has no {", ".join(missing)} folder(s); '
                  f'found: {", ".join(sorted(os.listdir(content)))}',
                  file=sys.stderr)
        previous = None
        if osp.exists(final):
            previous = osp.join(work, 'previous')
            os.rename(final, previous)
        try:
            os.rename(content, final)
        except OSError:
            if previous is not None:  # keep the old copy rather than none
                os.rename(previous, final)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _size_arg(text: str) -> Optional[int]:
    if text.strip().lower() in ('none', '0'):
        return None
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _ratio_arg(text: str) -> Optional[float]:
    if text.strip().lower() in ('none', '0'):
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f'not a positive ratio: {text!r}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments of ``tools/download_dataset.py``."""
    limits = DEFAULT_LIMITS
    parser = argparse.ArgumentParser(
        description='Download a CycleGAN dataset into <root>/<name>/ '
        '(trainA, trainB, testA, testB).',
        epilog=f'{anime_layout.NAME}: the AnimeGAN training set '
        f'({anime_layout.URL}); trainA = its train photos, trainB = the '
        'chosen style\'s frames, testA = its test photos, testB = every '
        f'{anime_layout.TEST_B_EVERY}th style frame (sorted names), kept '
        'out of trainB. Its size and sha256 are not published, so they '
        'cannot be checked from here: the sha256 of what arrived is '
        'printed; pass it with --sha256 next time to pin the file. '
        'Licence: non-commercial research only (printed, and written to '
        'LICENSE.txt next to the data).')
    parser.add_argument(
        'name', help=f'dataset name: {", ".join(KNOWN_DATASETS)} (any '
        'folder name with --url)')
    parser.add_argument('--root', default='data',
                        help='folder receiving <name>/ (default: data)')
    parser.add_argument('--url', help='download this zip instead of the '
                        'official archive')
    parser.add_argument('--sha256', help='expected sha256 of the archive')
    parser.add_argument('--style', choices=sorted(anime_layout.STYLES),
                        help=f'{anime_layout.NAME} only: whose frames form '
                        'domain B (default: hayao)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing <root>/<name>')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument(
        '--max-total-size', type=_size_arg,
        default=limits.max_total_bytes, metavar='SIZE',
        help='refuse archives that unpack to more than this (default 6G; '
        'K/M/G suffixes; none = no cap)')
    parser.add_argument(
        '--max-member-size', type=_size_arg,
        default=limits.max_member_bytes, metavar='SIZE',
        help='refuse archives with a file larger than this (default 256M)')
    parser.add_argument(
        '--max-ratio', type=_ratio_arg, default=limits.max_ratio,
        help='refuse archives (or members of 1 MiB or more) that unpack '
        f'more than this many times their packed size (default '
        f'{limits.max_ratio:g})')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    args = parse_args(argv)
    limits = DEFAULT_LIMITS._replace(max_total_bytes=args.max_total_size,
                                     max_member_bytes=args.max_member_size,
                                     max_ratio=args.max_ratio)
    if args.name == anime_layout.NAME:
        print(anime_layout.NOTICE)
        if args.sha256 is None:
            print('note: the size and sha256 of this archive are not '
                  'published and cannot be checked from here; pass '
                  '--sha256 HEX to pin a known file.')
    try:
        folder = download_dataset(args.name, args.root, args.url,
                                  args.sha256, args.force,
                                  progress=not args.no_progress,
                                  style=args.style, limits=limits)
    except (ValueError, FileExistsError, DownloadError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'{args.name} is ready in {folder}')
    return 0
