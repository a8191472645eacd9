"""Inference precision: the engine's one vocabulary, applied to a forward.

Names and the meaning of ``'auto'`` live in
:mod:`mm_cyclegan.engine.precision` (training uses the same): ``'auto'`` is
bf16 where the device computes it natively, fp16 on a CUDA GPU without
bf16, else fp32 with a one-line reason. This module adds only the
inference wording of how to force bf16 and the autocast context.
"""
from __future__ import annotations

import contextlib
from typing import ContextManager, Optional

import torch

from mm_cyclegan.engine.precision import autocast_dtype
from mm_cyclegan.engine.precision import resolve_precision as _resolve

#: How a user of the translator forces bf16 (tools/translate.py's option).
FORCE_HINT = "--precision bf16 (precision='bf16')"


def resolve_precision(precision: str,
                      device: str = 'cpu') -> tuple[str, Optional[str]]:
    """``('fp32' | 'bf16' | 'fp16', message)`` of a requested precision:
    :func:`mm_cyclegan.engine.precision.resolve_precision` with the
    translator's hint on how to force bf16."""
    return _resolve(precision, device, force_hint=FORCE_HINT)


def autocast(precision: str, device: str = 'cpu') -> ContextManager:
    """The autocast context of a resolved precision (a no-op for fp32)."""
    dtype = autocast_dtype(precision)
    if dtype is None:
        return contextlib.nullcontext()
    device_type = 'cuda' if str(device).startswith('cuda') else 'cpu'
    return torch.autocast(device_type=device_type, dtype=dtype)
