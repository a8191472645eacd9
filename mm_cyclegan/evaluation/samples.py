"""Reading a field of a data sample, whatever form the sample takes."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


def sample_field(sample: Any, key: str) -> Any:
    """``sample[key]`` for a dict, ``sample.key`` for a data sample; None
    when absent."""
    if isinstance(sample, Mapping):
        return sample.get(key)
    return getattr(sample, key, None)


def sample_flag(value: Any, default: bool = True) -> bool:
    """A flag field (``valid_a``, ``paired``) as a bool: a tensor is true
    when all its elements are; an absent flag (None) is ``default``."""
    if value is None:
        return default
    if isinstance(value, torch.Tensor):
        return bool(value.all())
    return bool(value)
