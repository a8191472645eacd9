"""Mixed-precision training on any device, CPU included.

MMEngine's ``AmpOptimWrapper`` asserts a GPU (NPU, MLU, MUSA), so a CPU had
no mixed precision at all. This wrapper is MMEngine's ``OptimWrapper`` plus
``torch.autocast``; ``dtype`` speaks the one precision vocabulary of
:mod:`mm_cyclegan.engine.precision` (``'auto'`` is bf16 where the device
computes it natively, fp16 on a CUDA GPU without bf16, else fp32 without
autocast). A ``GradScaler`` (dynamic loss scaling) only for fp16, whose
narrow exponent range needs it. Parameters, gradients, optimiser state and
so checkpoints stay fp32.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from torch import nn

from mm_cyclegan.registry import OPTIM_WRAPPERS
from mm_cyclegan.utils.validation import check_choice

from .precision import (
    autocast_dtype,
    bf16_slow_warning,
    cpu_bf16_support,
    resolve_precision,
)

DEVICE_TYPES = ('auto', 'cpu', 'cuda')
#: How a training run forces bf16 when ``'auto'`` chose fp32.
FORCE_HINT = ("--cfg-options amp.dtype=bfloat16 (in a config: amp = "
              "dict(dtype='bfloat16'), or the optim wrappers' "
              "dtype='bfloat16')")
_warned = set()


def _warn_once(message: str, level: int = 30) -> None:
    # Two wrappers (generators, discriminators) share one message.
    if message not in _warned:
        _warned.add(message)
        print_log(message, logger='current', level=level)


def _param_device_type(optimizer: torch.optim.Optimizer) -> str:
    for group in optimizer.param_groups:
        for param in group['params']:
            return param.device.type
    return 'cpu'


def resolve_dtype(dtype: str, device_type: str
                  ) -> tuple[Optional[torch.dtype], Optional[str]]:
    """The autocast dtype for ``dtype`` on a device (``None``: fp32, no
    autocast), and the one-line reason when ``'auto'`` chose fp32.

    Both spellings are accepted (``'bfloat16'`` / ``'bf16'``, ...);
    ``'auto'`` is :func:`mm_cyclegan.engine.precision.resolve_precision`.
    """
    precision, message = resolve_precision(dtype, device_type,
                                           force_hint=FORCE_HINT, key='dtype')
    return autocast_dtype(precision), message


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs under ``torch.autocast``.

    Args:
        optimizer: The wrapped optimiser (parameters stay fp32).
        dtype: ``'auto'`` (bf16 where the device computes it natively,
            fp16 on a CUDA GPU without bf16, else fp32: no autocast, said
            in one line), ``'bfloat16'``, ``'float16'`` or ``'float32'``
            (or ``'bf16'``, ``'fp16'``, ``'fp32'``). fp16 on a CPU works
            but is only useful for tests.
        device_type: ``'auto'`` takes the device of the optimiser's
            parameters; or ``'cpu'`` / ``'cuda'``.
        loss_scale: fp16 only: ``'dynamic'`` (``GradScaler`` defaults), a
            float (a static scale) or a dict of ``GradScaler`` arguments.
            Ignored for bf16, which needs no scaling.
        **kwargs: ``accumulative_counts``, ``clip_grad`` as for
            ``OptimWrapper``.

    Config (both CycleGAN optimisers; ``tools/train.py --amp`` does this)::

        optim_wrapper = dict(
            constructor='CycleGANOptimWrapperConstructor',
            generators=dict(type='MixedPrecisionOptimWrapper',
                            optimizer=dict(type='Adam', lr=2e-4)),
            discriminators=dict(type='MixedPrecisionOptimWrapper',
                                optimizer=dict(type='Adam', lr=2e-4)))

    On a CPU without native bf16 (no ``avx512_bf16``/``amx_bf16``)
    ``'auto'`` trains in fp32 and says so; a forced ``'bfloat16'`` warns
    that bf16 will be slower than fp32 there.
    """

    def __init__(self,
                 optimizer: torch.optim.Optimizer,
                 dtype: str = 'auto',
                 device_type: str = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs) -> None:
        super().__init__(optimizer=optimizer, **kwargs)
        check_choice('device_type', device_type, DEVICE_TYPES)
        if device_type == 'auto':
            device_type = _param_device_type(optimizer)
        if device_type not in ('cpu', 'cuda'):
            raise ValueError('MixedPrecisionOptimWrapper supports cpu and '
                             f'cuda parameters, got {device_type!r}')
        self.device_type = device_type
        self.cast_dtype, reason = resolve_dtype(dtype, device_type)
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        self._static_scale: Optional[float] = None
        if self.cast_dtype == torch.float16:
            self.loss_scaler = self._build_scaler(loss_scale)
        self._report(reason)

    def _report(self, reason: Optional[str]) -> None:
        # What dtype chose, once for both optimisers (level INFO).
        if reason is not None:  # 'auto' fell back to fp32
            _warn_once(f'Mixed precision: {reason}', level=20)
            return
        scaling = ''
        if self.loss_scaler is not None:
            scaling = ', loss scaling ' + (
                'dynamic' if self._static_scale is None
                else f'{self._static_scale:g}')
        _warn_once(f'Mixed precision: {self.precision} autocast on '
                   f'{self.device_type}{scaling}', level=20)
        if self.device_type != 'cpu':
            return
        if self.cast_dtype == torch.float16:
            _warn_once('Mixed precision: float16 autocast on a CPU is '
                       'for testing; use bfloat16 on CPUs.')
        elif (self.cast_dtype == torch.bfloat16
              and not cpu_bf16_support().native):
            _warn_once(bf16_slow_warning())

    def _build_scaler(self, loss_scale) -> torch.amp.GradScaler:
        if loss_scale == 'dynamic':
            return torch.amp.GradScaler(self.device_type)
        if isinstance(loss_scale, (int, float)) and not isinstance(
                loss_scale, bool) and loss_scale > 0:
            self._static_scale = float(loss_scale)
            return torch.amp.GradScaler(self.device_type,
                                        init_scale=self._static_scale)
        if isinstance(loss_scale, dict):
            return torch.amp.GradScaler(self.device_type, **loss_scale)
        raise TypeError("loss_scale must be 'dynamic', a positive number or "
                        f'a dict of GradScaler arguments, got {loss_scale!r}')

    @property
    def precision(self) -> str:
        """``'bfloat16'``, ``'float16'`` or ``'float32'`` (no autocast),
        for logs and reports."""
        return str(self.cast_dtype or torch.float32).replace('torch.', '')

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Gradient-accumulation context of ``OptimWrapper`` + autocast
        (none when the resolved precision is fp32)."""
        cast = contextlib.nullcontext() if self.cast_dtype is None else \
            torch.autocast(self.device_type, dtype=self.cast_dtype)
        with super().optim_context(model), cast:
            yield

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backward of the (scaled, for fp16) loss."""
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        """Clip (after unscaling) and step; fp16 skips steps with inf/nan
        gradients and adapts the scale."""
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._static_scale)

    def state_dict(self) -> dict:
        """Optimiser state, plus the loss scaler's for fp16."""
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the optimiser (and loss scaler, when saved with one).

        Checkpoints of fp32 or bf16 runs carry no scaler state; an fp16
        run then starts with a fresh scaler.
        """
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if self.loss_scaler is not None and scaler_state:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dtype={self.precision}, '
                f'device_type={self.device_type!r}, '
                f'loss_scaler={self.loss_scaler is not None})\n'
                f'{self.optimizer!r}')


__all__ = ['MixedPrecisionOptimWrapper', 'resolve_dtype']
