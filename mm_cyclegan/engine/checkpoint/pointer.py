"""A work dir's checkpoints: the ``last_checkpoint`` rule, auto-resume."""
from __future__ import annotations

import glob
import os
import os.path as osp
import re
from typing import Callable, Optional

from .errors import CheckpointError
from .reader import checkpoint_damage

POINTER_NAME = 'last_checkpoint'
_ITER_RE = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def _inside(path: str, folder: str) -> bool:
    real, root = osp.realpath(path), osp.realpath(folder)
    return real != root and osp.commonpath([real, root]) == root


def write_checkpoint_pointer(work_dir: str, checkpoint: str) -> None:
    """Point ``work_dir``'s ``last_checkpoint`` at ``checkpoint`` (a file
    in it), by its path relative to the work dir, so a copied or moved
    work dir resumes from its own files; written atomically."""
    pointer = osp.join(work_dir, POINTER_NAME)
    with open(pointer + '.tmp', 'w', encoding='utf-8') as f:
        f.write(osp.relpath(checkpoint, work_dir))
    os.replace(pointer + '.tmp', pointer)


def read_checkpoint_pointer(work_dir: str) -> Optional[str]:
    """The file a work dir's ``last_checkpoint`` names, or ``None``.

    ``None`` when there is no pointer file (or it is empty). The pointer
    names a file inside the work dir: a path relative to it, as our runner
    writes. An old absolute pointer (MMEngine's form) is taken by its file
    name inside this work dir (a copied or moved work dir means its own
    files), never followed to where it points. Whatever the pointer says,
    the result, symlinks resolved, must lie inside the work dir; else
    :class:`CheckpointError` names the pointer file and what it named. The
    returned file may not exist.
    """
    pointer = osp.join(work_dir, POINTER_NAME)
    if not osp.isfile(pointer):
        return None
    with open(pointer, encoding='utf-8', errors='replace') as f:
        named = f.read(4096).strip()
    if not named:
        return None
    target = osp.join(work_dir, osp.basename(named) if osp.isabs(named)
                      else named)
    if '\0' in named or not _inside(target, work_dir):
        raise CheckpointError(
            f'{pointer} names {named!r}, which is not a file inside the work '
            f'dir {work_dir}; a last_checkpoint pointer must name a file of '
            'its own work dir (relative, no "..", no symlink leading out). '
            'Fix or delete the pointer.')
    return osp.normpath(target)


def keep_damaged(path: str, reason: str,
                 logger: Optional[Callable[[str], None]] = None) -> str:
    """Rename a damaged checkpoint to ``<path>.damaged`` (``.damaged.N``
    when taken), so nothing overwrites it; returns the new name."""
    from mmengine.dist import is_main_process
    kept = path + '.damaged'
    number = 0
    while osp.lexists(kept):
        number += 1
        kept = f'{path}.damaged.{number}'
    if is_main_process():
        os.replace(path, kept)
    if logger is not None:
        logger(f'Skipping {path}: the file is damaged ({reason}); kept as '
               f'{kept}.')
    return kept


def find_resumable_checkpoint(
        work_dir: str,
        logger: Optional[Callable[[str], None]] = None) -> Optional[str]:
    """Return the newest checkpoint in ``work_dir`` to resume from, or
    ``None``.

    Candidates, in order: the file ``last_checkpoint`` names (see
    :func:`read_checkpoint_pointer`; a pointer leading out of the work dir
    is a :class:`CheckpointError`), then ``iter_N.pth`` / ``epoch_N.pth``
    from the largest ``N`` down. A missing candidate is skipped. Only a
    provably damaged one (short read, zip CRC error,
    :func:`checkpoint_damage`) is skipped too, and kept renamed to
    ``*.damaged``; each is reported to ``logger``. The first other
    candidate is returned even when reading it will be refused (a legacy
    or unsafe file): resuming then stops with the reason instead of
    starting over and overwriting it. ``*.pth.tmp`` files of an interrupted
    save are never returned.
    """
    candidates = []
    named = read_checkpoint_pointer(work_dir)
    if named is not None:
        candidates.append(named)
    numbered = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _ITER_RE.search(osp.basename(path))
        if match:
            numbered.append((int(match.group(1)), osp.normpath(path)))
    candidates += [p for _, p in sorted(numbered, reverse=True)
                   if p != named]
    for path in candidates:
        if not osp.isfile(path):
            if logger is not None:
                logger(f'last_checkpoint names {path}, which does not '
                       'exist; looking for other checkpoints.')
            continue
        damage = checkpoint_damage(path)
        if damage is None:
            return path
        keep_damaged(path, damage, logger)
    return None
