"""Mixed-precision training on any device, CPU included.

MMEngine's ``AmpOptimWrapper`` asserts a GPU (NPU, MLU, MUSA), so a CPU had
no mixed precision at all. This wrapper is MMEngine's ``OptimWrapper`` plus
``torch.autocast``: bf16 on CPUs, bf16 or fp16 on CUDA; a ``GradScaler``
(dynamic loss scaling) only for fp16, whose narrow exponent range needs it.
Parameters, gradients, optimiser state and so checkpoints stay fp32.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from torch import nn

from mm_cyclegan.registry import OPTIM_WRAPPERS

from .precision import bf16_slow_warning, cpu_bf16_support

DTYPES = ('auto', 'bfloat16', 'float16')
DEVICE_TYPES = ('auto', 'cpu', 'cuda')
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


def resolve_dtype(dtype: str, device_type: str) -> torch.dtype:
    """The autocast dtype for ``dtype`` (``'auto'`` resolved) on a device.

    ``'auto'`` is bf16 on CPUs, and on CUDA bf16 where the GPU supports it,
    else fp16.
    """
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
    if dtype == 'auto':
        if device_type == 'cuda' and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16
    return getattr(torch, dtype)


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs under ``torch.autocast``.

    Args:
        optimizer: The wrapped optimiser (parameters stay fp32).
        dtype: ``'auto'`` (bf16 on CPU; on CUDA bf16 if supported, else
            fp16), ``'bfloat16'`` or ``'float16'``. fp16 on a CPU works
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

    On a CPU without native bf16 (no ``avx512_bf16``/``amx_bf16``) a
    warning says that bf16 will be slower than fp32.
    """

    def __init__(self,
                 optimizer: torch.optim.Optimizer,
                 dtype: str = 'auto',
                 device_type: str = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs) -> None:
        super().__init__(optimizer=optimizer, **kwargs)
        if device_type not in DEVICE_TYPES:
            raise ValueError(f'device_type must be one of {DEVICE_TYPES}, '
                             f'got {device_type!r}')
        if device_type == 'auto':
            device_type = _param_device_type(optimizer)
        if device_type not in ('cpu', 'cuda'):
            raise ValueError('MixedPrecisionOptimWrapper supports cpu and '
                             f'cuda parameters, got {device_type!r}')
        self.device_type = device_type
        self.cast_dtype = resolve_dtype(dtype, device_type)
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        self._static_scale: Optional[float] = None
        if self.cast_dtype == torch.float16:
            self.loss_scaler = self._build_scaler(loss_scale)
        # What dtype='auto' chose, once for both optimisers (level INFO).
        scaling = ''
        if self.loss_scaler is not None:
            scaling = ', loss scaling ' + (
                'dynamic' if self._static_scale is None
                else f'{self._static_scale:g}')
        _warn_once(f'Mixed precision: {self.precision} autocast on '
                   f'{device_type}{scaling}', level=20)
        if device_type == 'cpu':
            if self.cast_dtype == torch.float16:
                _warn_once('Mixed precision: float16 autocast on a CPU is '
                           'for testing; use bfloat16 on CPUs.')
            elif not cpu_bf16_support().native:
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
        """``'bfloat16'`` or ``'float16'`` (for logs and reports)."""
        return str(self.cast_dtype).replace('torch.', '')

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Gradient-accumulation context of ``OptimWrapper`` + autocast."""
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=self.cast_dtype):
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


__all__ = ['DTYPES', 'MixedPrecisionOptimWrapper', 'resolve_dtype']
