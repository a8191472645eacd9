"""Gradient checkpointing shared by the generators.

``with_cp`` trades compute for memory: the wrapped part keeps only its
input during the forward pass and runs again in the backward pass. The
checkpoint sits *inside* the generator, below any DDP wrapper, so a DDP
forward is never replayed. The replay leaves norm running statistics alone:
otherwise every checkpointed BatchNorm would count each batch twice (a
known trap of plain ``torch.utils.checkpoint``).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Union

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _NormBase
from torch.utils.checkpoint import checkpoint

WithCp = Union[bool, str]


def check_with_cp(value: Any, choices: tuple[str, ...]) -> Union[bool, str]:
    """Normalise a ``with_cp`` setting: ``False``, or one of ``choices``.

    ``True`` means ``choices[0]``. A string outside ``choices`` is a
    ``ValueError``, any other type a ``TypeError``; both name the value.
    """
    if value is False:
        return False
    if value is True:
        return choices[0]
    if isinstance(value, str):
        if value in choices:
            return value
        raise ValueError(f'unknown with_cp {value!r}; expected False, True '
                         f'or one of {choices}')
    raise TypeError(f'with_cp must be a bool or one of {choices}, got '
                    f'{value!r} ({type(value).__name__})')


@contextmanager
def running_stats_kept(module: nn.Module) -> Iterator[None]:
    """Norms inside run as usual but leave with the running statistics
    (and ``num_batches_tracked``) they entered with.

    Restoring afterwards, rather than switching tracking off, keeps the
    replay's saved tensors identical to the first pass's, which
    ``torch.utils.checkpoint`` checks.
    """
    buffers = [buffer for m in module.modules()
               if isinstance(m, _NormBase) and m.track_running_stats
               for buffer in (m.running_mean, m.running_var,
                              m.num_batches_tracked) if buffer is not None]
    before = [buffer.clone() for buffer in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in zip(buffers, before):
                buffer.copy_(value)


def maybe_checkpoint(enabled: Any, module: nn.Module, x: Tensor) -> Tensor:
    """``module(x)``, recomputed in backward when ``enabled`` and gradients
    are being recorded.

    Non-reentrant checkpointing: it replays the autocast state and, with
    ``preserve_rng_state`` (the default), the same dropout masks, so the
    output, the gradients and the running statistics equal the plain
    call's.
    """
    if not (enabled and torch.is_grad_enabled()):
        return module(x)
    calls: list[bool] = []

    def run(inputs: Tensor) -> Tensor:
        if calls:  # the replay in the backward pass
            with running_stats_kept(module):
                return module(inputs)
        calls.append(True)
        return module(inputs)

    return checkpoint(run, x, use_reentrant=False)
