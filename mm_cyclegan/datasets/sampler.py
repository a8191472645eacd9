"""A sampler whose indices carry the epoch, for per-sample seeding."""
from __future__ import annotations

import math
from typing import Iterator, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mm_cyclegan.registry import DATA_SAMPLERS
from mm_cyclegan.utils.validation import check_int

from .seeding import encode_index

__all__ = ['UnpairedEpochSampler']


@DATA_SAMPLERS.register_module()
class UnpairedEpochSampler(Sampler):
    """Like MMEngine's ``DefaultSampler``, but yields ``epoch * N + i``.

    ``N = len(dataset)``; the indices are made by
    :func:`~.seeding.encode_index`. A dataset decoding them with
    :func:`~.seeding.decode_index` can then seed each sample's augmentation
    from (seed, epoch, i) alone (:func:`~.seeding.sample_rng`), independent
    of worker count and resumption. Works with any sized dataset.

    Args:
        dataset: The dataset (only ``len()`` is used).
        shuffle: Permute ``range(N)`` each epoch with a ``torch.Generator``
            seeded by ``seed + epoch``; otherwise yield in order.
        seed: Shuffle seed, identical on every rank; ``None`` draws one
            and broadcasts it (``mmengine.dist.sync_random_seed``).
        round_up: Repeat indices so that every rank gets the same count
            (``ceil(N / world_size)``); otherwise the last ranks get fewer.

    Each rank takes ``indices[rank::world_size]``; ``len()`` is that
    per-rank count.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.round_up = bool(round_up)
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0
        self._skip = 0

    def skip_next(self, count: int) -> None:
        """Drop the first ``count`` indices of the next pass only.

        Lets a resumed run continue mid-epoch without loading the samples it
        has already trained on.
        """
        self._skip = check_int('count', count, minimum=0)

    def _total_size(self) -> int:
        size = len(self.dataset)
        if self.round_up:
            return math.ceil(size / self.world_size) * self.world_size
        return size

    def __iter__(self) -> Iterator[int]:
        size = len(self.dataset)
        if size == 0:
            return iter([])
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = torch.randperm(size, generator=generator).tolist()
        else:
            order = list(range(size))
        total = self._total_size()
        if total > size:
            repeats = math.ceil(total / size)
            order = (order * repeats)[:total]
        mine = order[self.rank:total:self.world_size][self._skip:]
        self._skip = 0
        return iter([encode_index(self.epoch, i, size) for i in mine])

    def __len__(self) -> int:
        total = self._total_size()
        return max(0, math.ceil((total - self.rank) / self.world_size))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch encoded into the indices (and the shuffle seed)."""
        self.epoch = check_int('epoch', epoch, minimum=0)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(shuffle={self.shuffle}, seed='
                f'{self.seed}, round_up={self.round_up}, epoch={self.epoch},'
                f' rank={self.rank}/{self.world_size})')
