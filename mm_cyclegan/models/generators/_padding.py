"""Reflection and replication padding that keep bf16/fp16 under autocast.

CPU autocast lists ``reflection_pad2d`` and ``replication_pad2d`` among the
ops that run in fp32, so in a bf16 ResNet generator every padded conv costs
a cast to fp32 before the pad and a cast back to bf16 before the conv (and
the same again in the backward pass). Padding only copies values, so doing
it in the input's own dtype gives bit-identical forward values; these
subclasses switch autocast off around the pad when the input is already in
reduced precision. Everything else (fp32 inputs, no autocast) is the parent
class unchanged, and the modules have no parameters, so state dicts and
MMagic parity are untouched.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
from torch import Tensor

_REDUCED = (torch.bfloat16, torch.float16)


def _pad_in_input_dtype(pad: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Run ``pad`` with autocast off when ``x`` is already bf16/fp16 under
    autocast (no fp32 round trip)."""
    if x.dtype in _REDUCED and torch.is_autocast_enabled(x.device.type):
        with torch.autocast(x.device.type, enabled=False):
            return pad(x)
    return pad(x)


class ReflectionPad2d(nn.ReflectionPad2d):
    """``nn.ReflectionPad2d`` that stays in bf16/fp16 under autocast."""

    def forward(self, x: Tensor) -> Tensor:
        """Pad ``x`` by reflection, in ``x``'s dtype."""
        return _pad_in_input_dtype(super().forward, x)


class ReplicationPad2d(nn.ReplicationPad2d):
    """``nn.ReplicationPad2d`` that stays in bf16/fp16 under autocast."""

    def forward(self, x: Tensor) -> Tensor:
        """Pad ``x`` by replication, in ``x``'s dtype."""
        return _pad_in_input_dtype(super().forward, x)


_REPLACEMENTS = {nn.ReflectionPad2d: ReflectionPad2d,
                 nn.ReplicationPad2d: ReplicationPad2d}


def keep_dtype_padding(module: nn.Module) -> nn.Module:
    """Swap an mmcv ``ConvModule``'s reflection/replication padding layer
    for the autocast-preserving one (same padding); returns ``module``."""
    pad = getattr(module, 'padding_layer', None)
    replacement = _REPLACEMENTS.get(type(pad))
    if pad is not None and replacement is not None:
        module.padding_layer = replacement(pad.padding)
    return module
