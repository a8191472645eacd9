"""``photo2anime``: the AnimeGAN training set laid out the CycleGAN way.

The archive (release ``dataset-1`` of TachibanaYoshino/AnimeGAN) holds
``train_photo/``, ``test/test_photo/``, ``test/real/`` and, per style,
``Hayao/``, ``Shinkai/``, ``Paprika/`` with ``style/`` and ``smooth/``.
:func:`lay_out` builds::

    trainA/  train_photo/*                      (real photos)
    trainB/  <Style>/style/* minus the testB slice
    testA/   test/test_photo/*
    testB/   every TEST_B_EVERY-th file of <Style>/style/ (sorted names,
             starting with the first), kept out of trainB

``test/real/`` (larger photos AnimeGAN uses for its inference examples),
``<Style>/smooth/`` (edge-blurred frames, AnimeGAN's extra negatives) and
the other styles are not used and not kept. Files are moved, not copied.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Callable, List, Optional

from mm_cyclegan.utils.validation import check_choice

__all__ = ['NAME', 'URL', 'STYLES', 'TEST_B_EVERY', 'LICENSE', 'NOTICE',
           'lay_out', 'find_archive_root', 'split_style_frames', 'readme']

NAME = 'photo2anime'
#: The AnimeGAN README's "Download dataset" link points at this release.
URL = ('https://github.com/TachibanaYoshino/AnimeGAN/releases/download/'
       'dataset-1/dataset.zip')
#: Command-line style -> folder name in the archive.
STYLES = {'hayao': 'Hayao', 'shinkai': 'Shinkai', 'paprika': 'Paprika'}
TEST_B_EVERY = 10
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif',
                    '.tiff')

#: The "License" section of the AnimeGAN README, verbatim.
LICENSE = (
    'This repo is made freely available to academic and non-academic '
    'entities for non-commercial purposes such as academic research, '
    'teaching, scientific publications. Permission is granted to use the '
    'AnimeGAN given that you agree to my license terms. Regarding the '
    'request for commercial use, please contact us via email to help you '
    'obtain the authorization letter.')

NOTICE = f'''\
photo2anime: the AnimeGAN training set (release dataset-1 of
https://github.com/TachibanaYoshino/AnimeGAN, {URL}).
Licence (AnimeGAN README, "License"):
  {LICENSE}
The anime frames are stills from films whose copyright belongs to their
studios: non-commercial research only; do not redistribute them (not in a
repository, a wheel, a model card or a published model).'''


def _images(folder: str) -> List[str]:
    """Sorted names of the image files directly inside ``folder``."""
    return sorted(
        entry.name for entry in os.scandir(folder)
        if entry.is_file(follow_symlinks=False)
        and entry.name.lower().endswith(IMAGE_EXTENSIONS)
        and not entry.name.startswith('.'))


def find_archive_root(extracted: str) -> Optional[str]:
    """The folder holding ``train_photo/``: the top level or one folder
    down (the archive may wrap everything in ``dataset/``)."""
    if osp.isdir(osp.join(extracted, 'train_photo')):
        return extracted
    for entry in sorted(os.listdir(extracted)):
        candidate = osp.join(extracted, entry)
        if osp.isdir(osp.join(candidate, 'train_photo')):
            return candidate
    return None


def split_style_frames(names: List[str],
                       every: int = TEST_B_EVERY) -> tuple:
    """``(train, test)``: every ``every``-th name of the sorted list
    (indices 0, every, 2*every, ...) goes to test, the rest to train."""
    ordered = sorted(names)
    test = ordered[::every]
    held = set(test)
    return [n for n in ordered if n not in held], test


def lay_out(extracted: str, destination: str, style: str,
            log: Callable[[str], None] = print) -> dict:
    """Move the images of the unpacked archive ``extracted`` into the
    CycleGAN folders under ``destination`` (which must not exist) and
    write ``LICENSE.txt`` and ``README.txt`` there.

    Returns ``{folder: number of images}``. Raises ValueError for an
    unknown style and FileNotFoundError naming what the archive lacks.
    """
    check_choice('style', style, STYLES)
    root = find_archive_root(extracted)
    if root is None:
        raise FileNotFoundError(
            'the archive has no train_photo/ folder (found: '
            f'{", ".join(sorted(os.listdir(extracted))) or "nothing"}); '
            'is it the AnimeGAN dataset?')
    style_dir = osp.join(root, STYLES[style], 'style')
    sources = {'train_photo': osp.join(root, 'train_photo'),
               'test/test_photo': osp.join(root, 'test', 'test_photo'),
               f'{STYLES[style]}/style': style_dir}
    listed = {}
    for label, folder in sources.items():
        names = _images(folder) if osp.isdir(folder) else []
        if not names:
            raise FileNotFoundError(
                f'the archive has no images in {label}/ (found at the top: '
                f'{", ".join(sorted(os.listdir(root)))})')
        listed[label] = names
    train_b, test_b = split_style_frames(listed[f'{STYLES[style]}/style'])
    plan = {
        'trainA': (sources['train_photo'], listed['train_photo']),
        'testA': (sources['test/test_photo'], listed['test/test_photo']),
        'trainB': (style_dir, train_b),
        'testB': (style_dir, test_b),
    }
    os.makedirs(destination)
    counts = {}
    for folder, (source, names) in plan.items():
        os.makedirs(osp.join(destination, folder))
        for name in names:
            os.rename(osp.join(source, name),
                      osp.join(destination, folder, name))
        counts[folder] = len(names)
    with open(osp.join(destination, 'LICENSE.txt'), 'w') as f:
        f.write(NOTICE + '\n')
    with open(osp.join(destination, 'README.txt'), 'w') as f:
        f.write(readme(style, counts))
    log(f'photo2anime ({STYLES[style]}): ' + ', '.join(
        f'{k} {v}' for k, v in counts.items()))
    return counts


def readme(style: str, counts: dict) -> str:
    """What each folder holds and where it came from."""
    name = STYLES[style]
    return f'''\
photo2anime, style {name}, laid out by mm-cyclegan's
tools/download_dataset.py from the AnimeGAN dataset ({URL}).

trainA ({counts['trainA']}): train_photo/ (real photos)
trainB ({counts['trainB']}): {name}/style/ minus testB
testA  ({counts['testA']}): test/test_photo/
testB  ({counts['testB']}): every {TEST_B_EVERY}th file of {name}/style/ in
        sorted file-name order, starting with the first; not in trainB
Not kept: test/real/, {name}/smooth/, the other styles.

{NOTICE}
'''
