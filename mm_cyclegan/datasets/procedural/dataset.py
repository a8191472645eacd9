"""The procedural photo -> anime dataset, generated on the fly."""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import numpy as np
import torch

from mm_cyclegan.registry import DATASETS
from mm_cyclegan.utils.validation import check_choice, check_int

from ..seeding import decode_index, sample_rng
from .raster import Size, parse_size, rasterize, render_size
from .render_anime import render_anime
from .render_photo import render_photo
from .scene import make_scene

__all__ = ['ProceduralLandscapeDataset', 'check_disjoint_ranges']

# Rendered images kept per dataset object (per worker process).
_CACHE_BYTES = 64 * 1024 * 1024




def check_disjoint_ranges(ranges: dict) -> None:
    """Raise ``ValueError`` if two seed ranges overlap.

    ``ranges`` maps a name to ``(first_seed, count)``; range ``name`` covers
    ``[first_seed, first_seed + count)``. The message names both ranges.
    """
    names = list(ranges)
    for k, first in enumerate(names):
        for second in names[k + 1:]:
            a, n = ranges[first]
            b, m = ranges[second]
            if a < b + m and b < a + n:
                raise ValueError(
                    f'seed ranges overlap: {first}={a} covers [{a}, {a + n})'
                    f' and {second}={b} covers [{b}, {b + m}); move the '
                    'offsets apart or use fewer samples')


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 HWC RGB -> float32 CHW in [-1, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    return tensor.float().div_(127.5).sub_(1.0)


@DATASETS.register_module()
class ProceduralLandscapeDataset(torch.utils.data.Dataset):
    """Landscapes rendered as photos (domain a) and as anime (domain b).

    Args:
        split: ``'train'`` serves unpaired samples: sample ``i`` is the
            photo of scene ``train_seed_offset_a + i`` and the anime
            rendering of scene ``train_seed_offset_b + j``, with ``j``
            drawn per sample. ``'test'`` serves paired samples: both
            styles of scene ``test_seed_offset + i``, never flipped.
        num_samples: Scenes per domain (the dataset's length).
        size: Output size, an int or ``(height, width)``.
        seed: Seeds the per-sample random choices (flips, the pick of
            ``j``); these depend only on ``(seed, epoch, index)``.
        flip: Random horizontal flips in the train split, drawn
            independently per domain.
        train_seed_offset_a: First scene seed of the train photos.
        train_seed_offset_b: First scene seed of the train anime images.
        test_seed_offset: First scene seed of the test split.
        test_mode: ``None`` means ``split == 'test'``. ``True`` turns off
            flips in the train split too (pairing is set by ``split``).

    The three seed ranges ``[offset, offset + num_samples)`` must not
    overlap, so no training scene ever appears in the test split and the
    two training domains never show the same scene.

    Indices past ``len(self)`` are allowed and mean later epochs: index
    ``encode_index(epoch, i, len(self))`` gives sample ``i`` with epoch
    ``epoch``'s random choices (the protocol of
    :mod:`mm_cyclegan.datasets.seeding`, shared with the sampler).
    """

    METAINFO = dict(domain_a='photo', domain_b='anime')

    def __init__(self,
                 split: str = 'train',
                 num_samples: int = 1000,
                 size: Size = 64,
                 seed: int = 0,
                 flip: bool = True,
                 train_seed_offset_a: int = 0,
                 train_seed_offset_b: int = 1_000_000,
                 test_seed_offset: int = 2_000_000,
                 test_mode: Optional[bool] = None) -> None:
        self.split = check_choice('split', split, ('train', 'test'))
        self.num_samples = check_int('num_samples', num_samples, 1)
        self.size = parse_size(size)
        self.seed = check_int('seed', seed, 0)
        self.flip = bool(flip)
        self.test_mode = (split == 'test') if test_mode is None else bool(
            test_mode)
        self.offsets = {
            'train_seed_offset_a':
            check_int('train_seed_offset_a', train_seed_offset_a, 0),
            'train_seed_offset_b':
            check_int('train_seed_offset_b', train_seed_offset_b, 0),
            'test_seed_offset':
            check_int('test_seed_offset', test_seed_offset, 0),
        }
        check_disjoint_ranges({
            name: (first, self.num_samples)
            for name, first in self.offsets.items()
        })
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0

    @property
    def metainfo(self) -> dict:
        """Domain names, for MMEngine components that read them."""
        return dict(self.METAINFO)

    @property
    def paired(self) -> bool:
        """Whether samples show the same scene in both styles."""
        return self.split == 'test'

    def __len__(self) -> int:
        return self.num_samples

    def scene_seeds(self, domain: str) -> range:
        """The scene seeds that ``domain`` ('a' or 'b') draws from."""
        check_choice('domain', domain, ('a', 'b'))
        if self.paired:
            first = self.offsets['test_seed_offset']
        else:
            first = self.offsets[f'train_seed_offset_{domain}']
        return range(first, first + self.num_samples)

    def _render(self, style: str, scene_seed: int) -> np.ndarray:
        key = (style, scene_seed)
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
            return image
        scene = make_scene(scene_seed)
        raster = rasterize(scene, render_size(self.size))
        render = render_photo if style == 'photo' else render_anime
        image = render(scene, self.size, raster=raster)
        image.setflags(write=False)
        self._cache[key] = image
        self._cache_bytes += image.nbytes
        while self._cache_bytes > _CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes
        return image

    def __getitem__(self, idx: int) -> dict:
        epoch, i = decode_index(idx, len(self))
        index_a = i
        if self.paired:
            index_b = i
        else:
            pick = sample_rng(self.seed, epoch, i, 'pick_b')
            index_b = int(pick.integers(len(self)))
        seed_a = self.scene_seeds('a')[index_a]
        seed_b = self.scene_seeds('b')[index_b]
        img_a = self._render('photo', seed_a)
        img_b = self._render('anime', seed_b)
        if self.flip and not self.test_mode and not self.paired:
            if sample_rng(self.seed, epoch, i, 'flip_a').random() < 0.5:
                img_a = img_a[:, ::-1]
            if sample_rng(self.seed, epoch, i, 'flip_b').random() < 0.5:
                img_b = img_b[:, ::-1]
        return dict(
            img_a=_to_tensor(img_a),
            img_b=_to_tensor(img_b),
            path_a=f'procedural://photo/{seed_a}',
            path_b=f'procedural://anime/{seed_b}',
            index_a=index_a,
            index_b=index_b,
            valid_a=True,
            valid_b=True,
            pad_a=torch.zeros(4, dtype=torch.int64),
            pad_b=torch.zeros(4, dtype=torch.int64),
            paired=self.paired,
        )
