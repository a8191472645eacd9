"""The "epoch inside the sample index" protocol, defined once.

Samplers of this project (:class:`~.sampler.UnpairedEpochSampler`) yield
``encode_index(epoch, i, N) == epoch * N + i`` for a dataset of length
``N``; datasets call :func:`decode_index` to get ``(epoch, i)`` back and draw
every random choice of sample ``i`` from :func:`sample_rng` (run seed,
epoch, index, stream). The same sample therefore looks the same whatever
the number of workers, the order in which workers fetch it, or whether the
run was resumed, and global RNG state is never touched.
"""
from __future__ import annotations

import hashlib
from typing import Optional

import numpy as np

from mm_cyclegan.utils.validation import check_int

__all__ = ['SampleIndexError', 'decode_index', 'derive_seed',
           'encode_index', 'sample_rng']


class SampleIndexError(IndexError, ValueError):
    """A negative sample index: an ``IndexError`` for ``Dataset`` users and
    a ``ValueError`` (invalid user input) for everyone else."""




def derive_seed(seed: int,
                epoch: int,
                index: int,
                stream: Optional[str] = None) -> int:
    """Return a 63-bit seed for one sample's random stream.

    Args:
        seed: The run seed.
        epoch: The epoch the sample is drawn in.
        index: The sample's index within the epoch.
        stream: Optional name separating independent streams of one sample
            (e.g. ``'a'`` and ``'b'`` for the two domains).

    The result is a hash of the four values, so distinct inputs give
    unrelated seeds (neighbouring indices do not give neighbouring
    streams). It suits ``numpy.random.default_rng`` and
    ``torch.Generator.manual_seed`` alike.
    """
    seed = check_int('seed', seed, minimum=0)
    epoch = check_int('epoch', epoch, minimum=0)
    index = check_int('index', index, minimum=0)
    if stream is not None and not isinstance(stream, str):
        raise TypeError(f'stream must be a str or None, got {stream!r}')
    # Integers contain no '/', and '#' marks a named stream, so distinct
    # inputs always give distinct keys.
    key = f'{seed}/{epoch}/{index}/'
    if stream is not None:
        key += '#' + stream
    digest = hashlib.sha256(key.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'little') >> 1


def encode_index(epoch: int, index: int, length: int) -> int:
    """The sample index a sampler yields for sample ``index`` of ``epoch``.

    ``length`` is the dataset's length; ``0 <= index < length``.
    """
    epoch = check_int('epoch', epoch, minimum=0)
    index = check_int('index', index, minimum=0)
    length = _positive_length(length)
    if index >= length:
        raise ValueError(
            f'index must be < the dataset length {length}, got {index}')
    return epoch * length + index


def decode_index(idx: object, length: int) -> tuple[int, int]:
    """Split a sampler's index into ``(epoch, index within the epoch)``.

    Raises ``TypeError`` for a non-integer and :class:`SampleIndexError`
    for a negative index; every non-negative index is valid (it encodes
    the epoch).
    """
    number = check_int('sample index idx', idx, 0, error=SampleIndexError)
    epoch, index = divmod(number, _positive_length(length))
    return epoch, index


def sample_rng(seed: int, epoch: int, index: int,
               stream: str) -> np.random.Generator:
    """The NumPy generator of one random stream of one sample.

    Datasets draw every random choice of a sample (augmentation, which
    partner image) from one such stream per purpose, e.g. ``'a'``, ``'b'``,
    ``'pick_b'``.
    """
    return np.random.default_rng(derive_seed(seed, epoch, index, stream))


def _positive_length(length: int) -> int:
    length = check_int('length', length, minimum=0)
    if length == 0:
        raise ValueError('an empty dataset has no sample indices')
    return length
