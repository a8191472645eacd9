"""Two unaligned image folders, one sample = one image of each domain."""
from __future__ import annotations

import logging
import os.path as osp
from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mm_cyclegan.registry import DATASETS
from mm_cyclegan.utils.validation import check_choice, check_int

from .image_io import check_read_options, read_image
from .scan import BadImageFilesError, ScanResult, scan_folder
from .seeding import decode_index, derive_seed, sample_rng
from .transforms import Preprocess

__all__ = ['UnpairedImageDataset']

LAYOUT_HINT = (
    'Expected the CycleGAN layout <data_root>/trainA, trainB, testA, '
    'testB (or name the folders with folder_a/folder_b). To fetch a '
    'classic dataset run: python tools/download_dataset.py <name> '
    '--root data (e.g. horse2zebra).')


def _flag(name: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f'{name} must be a bool or None, got {value!r}')
    return bool(value)


@DATASETS.register_module()
class UnpairedImageDataset(Dataset):
    """Images of domain A and domain B from two folders, not aligned.

    An epoch has ``max(len(A), len(B))`` samples. Sample ``i`` holds
    ``A[i % len(A)]`` and, in training, a B image drawn at random (the
    reference's behaviour); with ``serial_b`` it holds ``B[i % len(B)]``.

    The index encodes the epoch (:func:`~.seeding.decode_index`; see
    :class:`~.sampler.UnpairedEpochSampler`). All randomness of a sample
    comes from :func:`~.seeding.sample_rng` ``(seed, epoch, i, stream)``,
    with the
    independent streams ``'a'``, ``'b'`` (augmentation of each domain) and
    ``'pick_b'`` (which B image), so a sample is the same with any number
    of workers and after resuming, and global RNG state is never touched.

    Every file is decoded once at construction; missing or empty folders
    and unusable files are reported then (see ``skip_bad_files``).

    Args:
        data_root: Folder holding the domain folders.
        split: ``'train'`` or ``'test'`` (any name with matching folders).
        folder_a: Domain A folder, absolute or relative to ``data_root``
            (default ``f'{split}A'``). Searched recursively.
        folder_b: Domain B folder (default ``f'{split}B'``).
        channels_a: 3 (gray is repeated) or 1 (RGB becomes the luminance
            ``0.299 R + 0.587 G + 0.114 B``).
        channels_b: The same for domain B.
        preprocess: A mode of :class:`~.transforms.Preprocess`.
        load_size: Resize target before cropping.
        crop_size: Random crop size.
        flip: Random horizontal flip; default on for training, off in
            test mode.
        vflip: Random vertical flip.
        alpha: ``'composite'`` blends transparent pixels over
            ``alpha_background``; ``'drop'`` discards the alpha channel.
        alpha_background: Background colour, 8-bit RGB units.
        serial_b: Take B in order instead of at random; default off for
            training, on in test mode.
        skip_bad_files: Leave unusable files out (logging how many and
            which) instead of raising one error that lists them.
        max_pixels: Refuse images with more pixels (decompression bombs);
            ``None`` uses ``PIL.Image.MAX_IMAGE_PIXELS``.
        seed: Run seed of the per-sample generators.
        test_mode: Default ``split != 'train'``; sets the defaults of
            ``flip`` and ``serial_b``.

    ``self[idx]`` is a dict: ``img_a``/``img_b`` (float32 (C, H, W), RGB,
    [-1, 1]), ``path_a``/``path_b``, ``index_a``/``index_b``,
    ``valid_a``/``valid_b`` (True the first time this epoch shows the
    image: ``i < len(A)``, ``i < len(B)``; metrics skip the others) and
    ``pad_a``/``pad_b`` (int64 (top, bottom, left, right) added by
    ``preprocess='none'``, zeros otherwise).
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 folder_a: Optional[str] = None,
                 folder_b: Optional[str] = None,
                 channels_a: int = 3,
                 channels_b: int = 3,
                 preprocess: str = 'resize_and_crop',
                 load_size: int = 286,
                 crop_size: int = 256,
                 flip: Optional[bool] = None,
                 vflip: bool = False,
                 alpha: str = 'composite',
                 alpha_background: Sequence[float] = (255, 255, 255),
                 serial_b: Optional[bool] = None,
                 skip_bad_files: bool = False,
                 max_pixels: Optional[int] = None,
                 seed: int = 0,
                 test_mode: Optional[bool] = None) -> None:
        if not isinstance(split, str) or not split:
            raise ValueError(f'split must be a non-empty str, got {split!r}')
        self.data_root = str(data_root)
        self.split = split
        self.test_mode = _flag('test_mode', test_mode, split != 'train')
        self.folder_a = osp.join(self.data_root, folder_a or f'{split}A')
        self.folder_b = osp.join(self.data_root, folder_b or f'{split}B')
        self.alpha_background = check_read_options(channels_a, alpha,
                                                   alpha_background)
        check_read_options(channels_b, alpha, alpha_background)
        self.channels_a = channels_a
        self.channels_b = channels_b
        self.alpha = alpha
        self.preprocess = Preprocess(
            preprocess, load_size, crop_size,
            flip=_flag('flip', flip, not self.test_mode),
            vflip=_flag('vflip', vflip, False))
        self.serial_b = _flag('serial_b', serial_b, self.test_mode)
        if max_pixels is not None:
            check_int('max_pixels', max_pixels, minimum=1)
        self.max_pixels = max_pixels
        derive_seed(seed, 0, 0)  # validates the seed
        self.seed = int(seed)
        self.skip_bad_files = bool(skip_bad_files)
        self._scan_a, self._scan_b = self._scan()
        self.files_a = self._scan_a.files
        self.files_b = self._scan_b.files

    # ------------------------------------------------------------------
    # start-up scan

    def _scan(self) -> tuple[ScanResult, ScanResult]:
        results = []
        for domain, folder in (('A', self.folder_a), ('B', self.folder_b)):
            results.append(
                scan_folder(
                    folder,
                    label=f'{self.split} domain {domain}',
                    hint=LAYOUT_HINT,
                    max_pixels=self.max_pixels,
                    size_check=self.preprocess.size_problem))
        bad = results[0].bad + results[1].bad
        if bad and not self.skip_bad_files:
            raise BadImageFilesError(bad)
        if bad:
            listing = '\n'.join(f'  {path}: {why}' for path, why in bad)
            print_log(
                f'UnpairedImageDataset: skipped {len(bad)} unusable image '
                f'file(s) (skip_bad_files=True):\n{listing}',
                logger='current',
                level=logging.WARNING)
        for result in results:
            if not result.files:
                raise ValueError(
                    f'no usable image left in {result.folder!r}: all '
                    f'{len(result.bad)} files were skipped as unusable')
        return results[0], results[1]

    def scan_result(self, domain: str) -> ScanResult:
        """The start-up scan of ``domain`` ('a' or 'b'): usable files,
        their sizes, the files skipped and why (the runner's size check
        reads it)."""
        scans = {'a': self._scan_a, 'b': self._scan_b}
        check_choice('domain', domain, scans)
        return scans[domain]

    @property
    def metainfo(self) -> dict:
        """Folders, image counts per domain and the number skipped."""
        return dict(
            split=self.split,
            data_root=self.data_root,
            folder_a=self.folder_a,
            folder_b=self.folder_b,
            num_a=len(self.files_a),
            num_b=len(self.files_b),
            skipped_a=len(self._scan_a.bad),
            skipped_b=len(self._scan_b.bad),
            channels_a=self.channels_a,
            channels_b=self.channels_b)

    # ------------------------------------------------------------------
    # samples

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __iter__(self) -> Iterator[dict]:
        # Without this, ``for s in dataset`` would never stop: every
        # non-negative index is valid (it encodes the epoch).
        return (self[i] for i in range(len(self)))

    def _load(self, path: str, channels: int,
              rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        image = read_image(path, channels, self.alpha,
                           self.alpha_background, self.max_pixels)
        image, padding = self.preprocess(image, rng, path)
        tensor = torch.from_numpy(np.ascontiguousarray(
            image.transpose(2, 0, 1)))
        return tensor, torch.tensor(padding, dtype=torch.int64)

    def __getitem__(self, idx: int) -> dict:
        epoch, i = decode_index(idx, len(self))
        num_a, num_b = len(self.files_a), len(self.files_b)
        index_a = i % num_a
        if self.serial_b:
            index_b = i % num_b
        else:
            pick = sample_rng(self.seed, epoch, i, 'pick_b')
            index_b = int(pick.integers(num_b))
        path_a, path_b = self.files_a[index_a], self.files_b[index_b]
        img_a, pad_a = self._load(path_a, self.channels_a,
                                  sample_rng(self.seed, epoch, i, 'a'))
        img_b, pad_b = self._load(path_b, self.channels_b,
                                  sample_rng(self.seed, epoch, i, 'b'))
        return dict(
            img_a=img_a,
            img_b=img_b,
            path_a=path_a,
            path_b=path_b,
            index_a=index_a,
            index_b=index_b,
            valid_a=i < num_a,
            valid_b=i < num_b,
            pad_a=pad_a,
            pad_b=pad_b)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(split={self.split!r}, '
                f'A={self.folder_a!r}: {len(self.files_a)} images, '
                f'B={self.folder_b!r}: {len(self.files_b)} images, '
                f'len={len(self)}, skipped={len(self._scan_a.bad)}+'
                f'{len(self._scan_b.bad)}, serial_b={self.serial_b}, '
                f'{self.preprocess!r})')
