"""Fetch a CycleGAN dataset archive and unpack it into ``<root>/<name>/``.
The command line is ``tools/download_dataset.py`` (:mod:`.download_cli`).

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

import hashlib
import http.client
import os
import os.path as osp
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from typing import Optional

from mm_cyclegan.utils.validation import check_choice

from . import anime_layout
from .zip_extract import (
    DEFAULT_LIMITS,
    DownloadError,
    ExtractLimits,
    check_limits,
    safe_extract,
)

__all__ = [
    'KNOWN_DATASETS', 'KNOWN_ARCHIVES', 'DEFAULT_LIMITS', 'DownloadError',
    'ExtractLimits', 'dataset_url', 'fetch', 'safe_extract',
    'download_dataset'
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


_CHUNK = 1 << 20  # bytes read at a time
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
_HEX64 = re.compile(r'^[0-9a-fA-F]{64}$')


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
    _verify(url, received, {'Content-Length': announced,
                            'the known archive size': expected_size},
            digest.hexdigest(), sha256)
    return digest.hexdigest()


def _verify(url: str, received: int, sizes: dict, actual: str,
            sha256: Optional[str]) -> None:
    """Raise :class:`DownloadError` unless the body matches every size
    given (``None``: unknown) and the expected ``sha256``, if any."""
    for what, size in sizes.items():
        if size is not None and received != size:
            raise DownloadError(
                f'size mismatch for {url}: received {received} bytes, '
                f'{what} says {size}')
    if sha256 is not None and actual != sha256.lower():
        raise DownloadError(
            f'sha256 mismatch for {url}: got {actual}, expected '
            f'{sha256.lower()}. The file is corrupt or was changed; '
            'if you trust the new file, pass its checksum with --sha256.')


def _content_folder(extracted: str) -> str:
    # The official archives hold one top-level '<name>/' folder.
    entries = [e for e in os.listdir(extracted) if e != '__MACOSX']
    if len(entries) == 1 and osp.isdir(osp.join(extracted, entries[0])):
        return osp.join(extracted, entries[0])
    return extracted


def _source(name: str, url: Optional[str], sha256: Optional[str]
            ) -> tuple[str, Optional[int], Optional[str]]:
    """The URL, known size and checksum to expect; official ones by
    default, none known for a given ``url``."""
    expected_size = None
    if url is None:
        url = dataset_url(name)
        expected_size, known_sha = KNOWN_ARCHIVES.get(name, (None, None))
        sha256 = sha256 or known_sha
    if sha256 is not None and not _HEX64.match(sha256):
        raise ValueError(f'sha256 must be 64 hex digits, got {sha256!r}')
    return url, expected_size, sha256


def _check_name_and_style(name: str, style: Optional[str]) -> Optional[str]:
    """Check the folder name; return the style (defaulted for photo2anime).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f'dataset name must be a plain folder name, got '
                         f'{name!r}')
    if name != anime_layout.NAME:
        if style is not None:
            raise ValueError(f'style={style!r} is only for '
                             f'{anime_layout.NAME}, not {name!r}')
        return None
    return check_choice('style', style or 'hayao', anime_layout.STYLES)


def _unpack(archive: str, work: str, url: str, style: Optional[str],
            limits: ExtractLimits) -> str:
    """Unpack ``archive`` inside ``work``; return the folder holding the
    dataset (re-laid out for photo2anime, whose ``style`` is not None)."""
    extracted = osp.join(work, 'extracted')
    safe_extract(archive, extracted, limits)
    os.remove(archive)  # free the space before the rename
    if style is None:
        return _content_folder(extracted)
    content = osp.join(work, 'laid-out')
    try:
        anime_layout.lay_out(extracted, content, style)
    except FileNotFoundError as err:
        raise DownloadError(f'{url}: {err}') from err
    return content


def _replace_folder(content: str, final: str, previous: str) -> None:
    """Rename ``content`` to ``final``, moving an existing ``final`` aside
    to ``previous`` first and back if the rename fails."""
    moved = osp.exists(final)
    if moved:
        os.rename(final, previous)
    try:
        os.rename(content, final)
    except OSError:
        if moved:  # keep the old copy rather than none
            os.rename(previous, final)
        raise


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
    style = _check_name_and_style(name, style)
    limits = check_limits(limits)
    url, expected_size, sha256 = _source(name, url, sha256)
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
        content = _unpack(archive, work, url, style, limits)
        missing = [d for d in LAYOUT if not osp.isdir(osp.join(content, d))]
        if missing:
            print(f'warning: {url} has no {", ".join(missing)} folder(s); '
                  f'found: {", ".join(sorted(os.listdir(content)))}',
                  file=sys.stderr)
        _replace_folder(content, final, osp.join(work, 'previous'))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


