"""Inference precision: fp32, or bf16 autocast where the hardware has it.

bf16 pays off only with native bf16 arithmetic: on CPUs with AVX-512 BF16 or
AMX (``/proc/cpuinfo`` flags ``avx512_bf16`` / ``amx_bf16``) and on CUDA
GPUs that support it. Elsewhere PyTorch emulates it and autocast is slower
than fp32, so ``'auto'`` picks fp32 there and says why in one line.
"""
from __future__ import annotations

import contextlib
import functools
import os
from typing import ContextManager, Optional

import torch

PRECISIONS = ('auto', 'fp32', 'bf16')

_BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


@functools.lru_cache(maxsize=None)
def _cpu_flags() -> frozenset:
    flags: set = set()
    if os.path.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo', encoding='utf-8', errors='ignore') as f:
            for line in f:
                if line.startswith('flags'):
                    flags.update(line.split(':', 1)[1].split())
                    break
    return frozenset(flags)


def native_bf16(device: str = 'cpu') -> bool:
    """Whether ``device`` computes bf16 natively (so autocast is faster)."""
    if str(device).startswith('cuda'):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if any(flag in _cpu_flags() for flag in _BF16_CPU_FLAGS):
        return True
    # Without /proc/cpuinfo (macOS, Windows) ask PyTorch's dispatcher:
    # AVX512_BF16 / AMX capabilities are reported by name.
    capability = str(torch.backends.cpu.get_cpu_capability()).upper()
    return 'BF16' in capability or 'AMX' in capability


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
