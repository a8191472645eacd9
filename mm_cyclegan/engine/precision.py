"""Precision: the one vocabulary, and what ``'auto'`` means, everywhere.

Names (training and inference accept both spellings):

* ``'auto'``: the fastest autocast dtype the device computes natively
  (:func:`resolve_precision`);
* ``'fp32'`` / ``'float32'``: no autocast;
* ``'bf16'`` / ``'bfloat16'``: bf16 autocast (MMEngine configs spell it
  ``dtype='bfloat16'``);
* ``'fp16'`` / ``'float16'``: fp16 autocast (training adds loss scaling).

``'auto'`` is bf16 on a CPU with native bf16 (``avx512_bf16`` /
``amx_bf16``) and on a CUDA GPU with bf16, fp16 on a CUDA GPU without it,
else fp32 with a one-line reason. bf16 autocast pays off on a CPU only
with native bf16 arithmetic: without it PyTorch falls back to a slow
generic convolution for bf16 (one 3x3 conv measured ~190x slower than fp32
on an AVX2-only AMD EPYC), so ``'auto'`` does not choose it there; an
explicit ``'bf16'`` still forces it.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch

from mm_cyclegan.utils.validation import check_choice

CPU_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')

#: The precision names, short spelling first; ``'auto'`` is resolved by
#: :func:`resolve_precision`.
PRECISIONS = ('auto', 'fp32', 'bf16', 'fp16')
#: The long (``torch.dtype``, MMEngine ``dtype=``) spellings of the same.
PRECISION_ALIASES = {'float32': 'fp32', 'bfloat16': 'bf16',
                     'float16': 'fp16'}
#: Every accepted name (``choices`` of a command line option).
PRECISION_NAMES = PRECISIONS + tuple(PRECISION_ALIASES)
_AUTOCAST_DTYPES = {'fp32': None, 'bf16': torch.bfloat16,
                    'fp16': torch.float16}


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
    """The message shown when bf16 is forced on a CPU without it."""
    return (f'Mixed precision: {cpu_bf16_support().detail}. Training in '
            'bf16 keeps the same results within bf16 tolerance but will be '
            "several times SLOWER than fp32 on this machine; dtype='auto' "
            '(what --amp sets) trains in fp32 here.')


def canonical_precision(name: str, key: str = 'precision') -> str:
    """The short name (``'auto'``, ``'fp32'``, ``'bf16'``, ``'fp16'``) of
    either spelling; ``ValueError`` naming ``key`` and the options else."""
    check_choice(key, name, PRECISION_NAMES)
    return PRECISION_ALIASES.get(name, name)


def _native_choice(device_type: str) -> str:
    """The fastest precision a device computes natively."""
    if device_type == 'cuda':
        # including_emulation=False: pre-Ampere GPUs emulate bf16 slowly.
        if torch.cuda.is_bf16_supported(including_emulation=False):
            return 'bf16'
        return 'fp16'
    return 'bf16' if cpu_bf16_support().native else 'fp32'


def resolve_precision(name: str, device: str = 'cpu',
                      force_hint: str = "precision='bf16'",
                      key: str = 'precision') -> tuple[str, Optional[str]]:
    """Return ``('fp32' | 'bf16' | 'fp16', message)`` for a precision name.

    The one meaning of ``'auto'``, for training and inference alike: bf16
    where the device computes it natively (CPU ``avx512_bf16`` /
    ``amx_bf16``, a bf16-capable CUDA GPU), fp16 on a CUDA GPU without
    bf16, else fp32 (no autocast) with a one-line ``message`` that says
    why and how to force bf16 (``force_hint``, e.g. ``'--precision
    bf16'``). Explicit names are honoured as given; ``message`` is
    ``None`` whenever there is nothing to explain. A bad name is a
    ``ValueError`` naming ``key`` and the accepted names.
    """
    name = canonical_precision(name, key)
    if name != 'auto':
        return name, None
    device_type = 'cuda' if str(device).startswith('cuda') else 'cpu'
    chosen = _native_choice(device_type)
    if chosen != 'fp32':
        return chosen, None
    capability = torch.backends.cpu.get_cpu_capability()
    return 'fp32', ('precision auto -> fp32, no autocast (no native bf16 '
                    'on this CPU: neither avx512_bf16 nor amx_bf16, '
                    f'PyTorch CPU capability {capability}); force bf16 '
                    f'(emulated, slower) with {force_hint}')


def autocast_dtype(precision: str) -> Optional[torch.dtype]:
    """The ``torch.autocast`` dtype of a resolved precision (``None`` for
    fp32: no autocast)."""
    name = canonical_precision(precision)
    if name == 'auto':
        raise ValueError("resolve precision 'auto' first "
                         '(resolve_precision)')
    return _AUTOCAST_DTYPES[name]


__all__ = ['Bf16Support', 'CPU_BF16_FLAGS', 'PRECISIONS',
           'PRECISION_ALIASES', 'PRECISION_NAMES', 'autocast_dtype',
           'bf16_slow_warning', 'canonical_precision', 'cpu_bf16_support',
           'resolve_precision']
