"""Which reduced precision this machine runs natively.

bf16 autocast pays off on a CPU only with native bf16 arithmetic
(AVX-512 BF16 or AMX). Without it PyTorch falls back to a slow generic
convolution for bf16 (one 3x3 conv measured ~190x slower than fp32 on an
AVX2-only AMD EPYC), so the caller must be told.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

CPU_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


class Bf16Support(NamedTuple):
    """Whether the CPU has native bf16, and the evidence in words."""

    native: bool
    detail: str


def _cpuinfo_flags() -> set:
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_bf16_support() -> Bf16Support:
    """Detect native bf16 on this CPU (AVX-512 BF16 or AMX).

    Uses PyTorch's own ISA probe (what oneDNN dispatch relies on) and, on
    Linux, the ``/proc/cpuinfo`` flags as a second opinion.
    """
    probes = {
        'avx512_bf16': getattr(torch.cpu, '_is_avx512_bf16_supported', None),
        'amx_bf16': getattr(torch.cpu, '_is_amx_tile_supported', None),
    }
    found = [name for name, probe in probes.items()
             if probe is not None and probe()]
    flags = _cpuinfo_flags()
    found += [f for f in CPU_BF16_FLAGS if f in flags and f not in found]
    capability = torch.backends.cpu.get_cpu_capability()
    if found:
        return Bf16Support(True, f'native bf16 ({", ".join(found)}; '
                           f'PyTorch CPU capability {capability})')
    return Bf16Support(
        False, 'no native bf16 on this CPU (neither avx512_bf16 nor '
        f'amx_bf16; PyTorch CPU capability {capability}): bf16 runs '
        'emulated and is much slower than fp32 here')


def bf16_slow_warning() -> str:
    """The message shown when bf16 is requested on a CPU without it."""
    return (f'Mixed precision: {cpu_bf16_support().detail}. Training in '
            'bf16 keeps the same results within bf16 tolerance but will be '
            'several times SLOWER than fp32 on this machine; drop --amp '
            '(or the MixedPrecisionOptimWrapper) for speed.')


__all__ = ['Bf16Support', 'CPU_BF16_FLAGS', 'bf16_slow_warning',
           'cpu_bf16_support']
