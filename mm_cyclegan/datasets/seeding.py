"""Per-sample seeds, so augmentation never depends on global RNG state.

Every random choice a dataset makes for one sample is drawn from a generator
seeded by :func:`derive_seed` (run seed, epoch, index, stream). The same
sample therefore looks the same whatever the number of workers, the order
in which workers fetch it, or whether the run was resumed.
"""
from __future__ import annotations

import hashlib
import operator
from typing import Optional

__all__ = ['derive_seed']


def _non_negative_int(name: str, value: object) -> int:
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f'{name} must be an int, got {value!r}') from None
    if number < 0:
        raise ValueError(f'{name} must be >= 0, got {number}')
    return number


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
    seed = _non_negative_int('seed', seed)
    epoch = _non_negative_int('epoch', epoch)
    index = _non_negative_int('index', index)
    if stream is not None and not isinstance(stream, str):
        raise TypeError(f'stream must be a str or None, got {stream!r}')
    # Integers contain no '/', and '#' marks a named stream, so distinct
    # inputs always give distinct keys.
    key = f'{seed}/{epoch}/{index}/'
    if stream is not None:
        key += '#' + stream
    digest = hashlib.sha256(key.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'little') >> 1
