"""Folders in, folder out: what ``tools/translate.py`` does, as functions.

* :func:`collect_inputs` expands files, folders (recursively) and globs.
* :func:`plan_jobs` maps each input to ``OUT/<relative dir>/<stem>.<ext>``
  and refuses, before any work, to write into an input folder, over an
  input file, or twice to one output.
* :func:`translate_files` reads each image with the dataset's reader,
  batches images of the same size, writes atomically (``*.tmp`` then
  rename, so an interrupted run never leaves a truncated output that a
  restart would skip), and returns a :class:`Summary` in which every
  failure keeps its reason; one bad file never stops the others.
"""
from __future__ import annotations

import glob
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
from tqdm import tqdm

from mm_cyclegan.apis.inference.image_arrays import (
    encode_image,
    match_channels,
    resize_max_side,
)
from mm_cyclegan.apis.inference.translator import Translator
from mm_cyclegan.datasets.image_io import IMAGE_EXTENSIONS, decode_image
from mm_cyclegan.utils.validation import check_choice

OUTPUT_EXTENSIONS = ('png', 'jpg')


@dataclass(frozen=True)
class Job:
    """One input file and the output file it becomes."""

    src: str
    dst: str


@dataclass
class Summary:
    """What a run did: outputs written, skipped (existing), failed."""

    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (input path, reason)
    notes: list = field(default_factory=list)

    def text(self) -> str:
        """A human summary; every failure on its own line with its reason."""
        counts = [f'{len(self.written)} written']
        # Only counts that happened: "0 skipped (output exists...)" on a
        # first run reads as if something was wrong.
        if self.skipped:
            counts.append(f'{len(self.skipped)} skipped (output exists; '
                          '--overwrite redoes them)')
        if self.failed:
            counts.append(f'{len(self.failed)} failed')
        lines = [', '.join(counts)]
        lines += [f'  FAILED {src}: {reason}' for src, reason in self.failed]
        lines += [f'  note: {note}' for note in self.notes]
        return '\n'.join(lines)


def short_architecture(cfg: Mapping) -> str:
    """A network config in a few words (``ResnetGenerator, 9 blocks, 64
    channels``) for a one-line report; the full config is in the weights
    file."""
    parts = [str(cfg.get('type', 'network'))]
    for key, unit in (('num_blocks', 'blocks'), ('num_down', 'downs'),
                      ('base_channels', 'channels')):
        if cfg.get(key) is not None:
            parts.append(f'{cfg[key]} {unit}')
    return ', '.join(parts)


def _is_hidden(name: str) -> bool:
    return name.startswith('.')


def _walk_images(folder: str, recursive: bool) -> list:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        for name in sorted(files):
            if not _is_hidden(name) and \
                    osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                found.append(osp.join(root, name))
        if not recursive:
            break
    return found


def _glob_root(pattern: str) -> str:
    parts = []
    for part in pattern.split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    return os.sep.join(parts) or '.'


def collect_inputs(inputs: Sequence[str], recursive: bool = True) -> list:
    """Expand inputs to ``[(file, root), ...]``; outputs keep paths from root.

    A folder contributes its image files (by extension, hidden ones
    skipped), a file itself, a glob its matches. An input that matches
    nothing is a ``ValueError``.
    """
    found: list = []
    seen: set = set()
    for item in inputs:
        item = osp.expanduser(str(item))
        if osp.isdir(item):
            pairs = [(f, item) for f in _walk_images(item, recursive)]
            if not pairs:
                raise ValueError(f'input folder {item!r} holds no images '
                                 f'({", ".join(IMAGE_EXTENSIONS)})')
        elif osp.isfile(item):
            pairs = [(item, osp.dirname(item) or '.')]
        elif glob.has_magic(item):
            root = _glob_root(item)
            pairs = []
            for match in sorted(glob.glob(item, recursive=True)):
                if osp.isdir(match):
                    pairs += [(f, root) for f in _walk_images(match,
                                                              recursive)]
                elif osp.splitext(match)[1].lower() in IMAGE_EXTENSIONS:
                    pairs.append((match, root))
            if not pairs:
                raise ValueError(f'input pattern {item!r} matches no images')
        else:
            raise ValueError(f'input {item!r} does not exist')
        for path, root in pairs:
            key = osp.realpath(path)
            if key not in seen:
                seen.add(key)
                found.append((path, root))
    return found


def plan_jobs(inputs: Sequence[str], files: Sequence[tuple], out_dir: str,
              ext: str = 'png', recursive: bool = True) -> list:
    """Output paths for ``files`` (from :func:`collect_inputs`).

    Raises ``ValueError`` before anything is written when the outputs
    would go into an input folder (or, for a recursive folder input,
    anywhere below it; a glob's leading folder counts as an input
    folder), over an input file, or when two inputs would write the same
    output (e.g. ``a.jpg`` and ``a.png``).
    """
    ext = ext.lower().lstrip('.')
    if ext == 'jpeg':
        ext = 'jpg'
    check_choice('ext', ext, OUTPUT_EXTENSIONS)
    out_real = osp.realpath(out_dir)
    for item in inputs:
        item = osp.expanduser(str(item))
        if osp.isdir(item):
            folder, what = item, f'the input folder {item!r}'
        elif not osp.isfile(item) and glob.has_magic(item):
            # A glob's fixed leading folder counts as an input folder.
            folder = _glob_root(item)
            what = f'the folder {folder!r} of the input pattern {item!r}'
        else:
            continue
        folder = osp.realpath(folder)
        inside = out_real == folder or (
            recursive and out_real.startswith(folder.rstrip(os.sep) + os.sep))
        if inside:
            raise ValueError(
                f'--out {out_dir!r} is inside {what}; choose an output '
                'folder outside the inputs (outputs are never written into '
                'an input folder)')
    input_files = {osp.realpath(f) for f, _ in files}
    input_dirs = {osp.dirname(p) for p in input_files}
    jobs: list = []
    owners: dict = {}
    for path, root in files:
        rel = osp.relpath(path, root)
        dst = osp.join(out_dir, osp.splitext(rel)[0] + '.' + ext)
        real = osp.realpath(dst)
        if real in input_files:
            raise ValueError(f'the output of {path!r} would overwrite the '
                             f'input file {dst!r}; choose another --out')
        if osp.dirname(real) in input_dirs:
            raise ValueError(
                f'the output of {path!r} would be written into the input '
                f'folder {osp.dirname(dst) or "."!r}; choose an --out '
                'folder that holds no inputs')
        if real in owners:
            raise ValueError(f'{owners[real]!r} and {path!r} would both be '
                             f'written to {dst!r}; translate them '
                             'separately')
        owners[real] = path
        jobs.append(Job(path, dst))
    return jobs


def write_image(path: str, pixels: np.ndarray, ext: str,
                quality: int = 95) -> None:
    """Write atomically: to ``path.tmp``, then rename over ``path``."""
    data = encode_image(pixels, ext, quality)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def side_by_side(source: np.ndarray, output: np.ndarray) -> np.ndarray:
    """``source | output`` in one image (alpha dropped, channels matched)."""
    channels = 3 if max(source.shape[2], output.shape[2]) >= 3 else 1
    return np.concatenate([match_channels(source, channels),
                           match_channels(output, channels)], axis=1)


def _reason(err: BaseException) -> str:
    reason = getattr(err, 'reason', None)
    return reason if reason else f'{type(err).__name__}: {err}'


class _Batcher:
    """Groups decoded images by size, translates and writes each group."""

    def __init__(self, translator: Translator, direction: Optional[str],
                 batch_size: int, pair: bool, ext: str, quality: int,
                 bar: tqdm) -> None:
        self.translator, self.direction = translator, direction
        self.batch_size, self.pair = batch_size, pair
        self.ext, self.quality, self.bar = ext, quality, bar
        self.summary = Summary()
        self.pending: dict = {}
        self.alpha_dropped = False

    def add(self, job: Job, pixels: np.ndarray) -> None:
        """Queue one image; translate its group once it is full."""
        key = (pixels.shape, pixels.dtype.str)
        self.pending.setdefault(key, []).append((job, pixels))
        if len(self.pending[key]) >= self.batch_size:
            self.flush(key)
        elif sum(len(g) for g in self.pending.values()) >= \
                4 * self.batch_size:
            # Many different sizes: bound the memory held by waiting images.
            self.flush(max(self.pending, key=lambda k: len(self.pending[k])))

    def flush(self, key: tuple) -> None:
        """Translate and write the images waiting under ``key``."""
        group = self.pending.pop(key)
        try:
            outputs = self.translator.translate_batch(
                [pixels for _, pixels in group], self.direction,
                batch_size=len(group))
        except Exception as err:  # the whole batch fails, others go on
            self.summary.failed += [(job.src, _reason(err))
                                    for job, _ in group]
            self.bar.update(len(group))
            return
        for (job, pixels), output in zip(group, outputs):
            self._write(job, pixels, output)
            self.bar.update(1)

    def _write(self, job: Job, pixels: np.ndarray,
               output: np.ndarray) -> None:
        try:
            if output.ndim == 2:
                output = output[:, :, None]
            if self.ext == 'jpg' and output.shape[2] in (2, 4):
                self.alpha_dropped = True
            image = side_by_side(pixels, output) if self.pair else output
            write_image(job.dst, image, self.ext, self.quality)
            self.summary.written.append(job.dst)
        except Exception as err:
            self.summary.failed.append((job.src, _reason(err)))

    def finish(self) -> Summary:
        """Flush every waiting group; return the summary."""
        for key in list(self.pending):
            self.flush(key)
        if self.alpha_dropped:
            self.summary.notes.append(
                'JPEG has no alpha channel: alpha was dropped (use --ext '
                'png to keep it)')
        return self.summary


def translate_files(translator: Translator,
                    jobs: Iterable[Job],
                    direction: Optional[str] = None,
                    batch_size: int = 1,
                    max_side: Optional[int] = None,
                    pair: bool = False,
                    ext: str = 'png',
                    quality: int = 95,
                    overwrite: bool = False,
                    progress: bool = True) -> Summary:
    """Translate every job's image and write it; never stops on one failure.

    Existing outputs are skipped unless ``overwrite``. Images of the same
    size (after ``max_side``) are translated ``batch_size`` at a time.
    ``pair`` writes ``input | output`` side by side.
    """
    jobs = list(jobs)
    ext = 'jpg' if ext.lower().lstrip('.') in ('jpg', 'jpeg') else 'png'
    bar = tqdm(total=len(jobs), unit='img', disable=not progress,
               dynamic_ncols=True)
    batcher = _Batcher(translator, direction, batch_size, pair, ext,
                       quality, bar)
    for job in jobs:
        if osp.exists(job.dst) and not overwrite:
            batcher.summary.skipped.append(job.dst)
            bar.update(1)
            continue
        try:
            pixels, _ = decode_image(job.src)
            pixels = resize_max_side(pixels, max_side)
        except Exception as err:
            batcher.summary.failed.append((job.src, _reason(err)))
            bar.update(1)
            continue
        batcher.add(job, pixels)
    summary = batcher.finish()
    bar.close()
    return summary
