"""Stops training at the first non-finite loss."""
from __future__ import annotations

import math
from typing import Optional

import torch
from mmengine.hooks import Hook

from mm_cyclegan.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; training was stopped."""


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` as soon as a logged loss is NaN/inf.

    Runs after every training iteration, before the logger and the
    checkpoint hook (priority ``ABOVE_NORMAL``), so a diverged iteration is
    neither logged as a result nor saved. The error names every non-finite
    loss and the iteration (1-based, as in the log). Only the detection
    lives here; warnings about a degrading but finite run belong in a
    separate health hook.

    Args:
        keys: Only check outputs whose name starts with one of these
            prefixes (default ``('loss',)``: every ``loss_*`` term).
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, keys: tuple[str, ...] = ('loss', )) -> None:
        if isinstance(keys, str) or not all(isinstance(k, str)
                                            for k in keys):
            raise TypeError(f'keys must be a tuple of str, got {keys!r}')
        self.keys = tuple(keys)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Check this iteration's losses."""
        bad = []
        for name, value in (outputs or {}).items():
            if not name.startswith(self.keys):
                continue
            number = (float(value.detach().float().mean())
                      if isinstance(value, torch.Tensor) else value)
            if isinstance(number, (int, float)) and not math.isfinite(number):
                bad.append(f'{name}={number}')
        if bad:
            raise NonFiniteLossError(
                f'Non-finite loss at iteration {runner.iter + 1}: '
                f'{", ".join(bad)}. Training stopped; no checkpoint of this '
                'iteration was written. Lower the learning rate, or resume '
                'from the last checkpoint.')
