"""Inference precision: fp32, or bf16 autocast where the hardware has it.

bf16 pays off only with native bf16 arithmetic: on CPUs with AVX-512 BF16 or
AMX (``/proc/cpuinfo`` flags ``avx512_bf16`` / ``amx_bf16``) and on CUDA
GPUs that support it. Elsewhere PyTorch emulates it and autocast is slower
than fp32, so ``'auto'`` picks fp32 there and says why in one line.
"""
from __future__ import annotations

import contextlib
from typing import ContextManager, Optional

import torch

from mm_cyclegan.engine.precision import cpu_bf16_support

PRECISIONS = ('auto', 'fp32', 'bf16')


def native_bf16(device: str = 'cpu') -> bool:
    """Whether ``device`` computes bf16 natively (so autocast is faster).

    CPUs: :func:`mm_cyclegan.engine.precision.cpu_bf16_support`, the same
    test training uses.
    """
    if str(device).startswith('cuda'):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cpu_bf16_support().native


def resolve_precision(precision: str,
                      device: str = 'cpu') -> tuple[str, Optional[str]]:
    """Return ``('fp32' | 'bf16', message)`` for a requested precision.

    ``'auto'`` is bf16 where :func:`native_bf16` holds, else fp32 with a
    one-line ``message`` saying why (``None`` when there is nothing to
    say). An explicit ``'bf16'`` is honoured even without native support.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision != 'auto':
        return precision, None
    if native_bf16(device):
        return 'bf16', None
    return 'fp32', (f'precision: fp32 (no native bf16 on {device}: no '
                    'avx512_bf16/amx_bf16 CPU flag or bf16-capable GPU; '
                    'pass --precision bf16 to force it)')


def autocast(precision: str, device: str = 'cpu') -> ContextManager:
    """The autocast context of a resolved precision (a no-op for fp32)."""
    if precision == 'bf16':
        device_type = 'cuda' if str(device).startswith('cuda') else 'cpu'
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
