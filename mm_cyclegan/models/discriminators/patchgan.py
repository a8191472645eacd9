"""The PatchGAN discriminator of pix2pix and CycleGAN.

C64-C128-C256-C512 with 4x4 convs: ``num_conv`` stride-2 convs, one
stride-1 conv, then a stride-1 conv to one logit per patch. Each output
unit sees a ``9 * 2 ** num_conv - 2`` pixel square of the input (70 x 70 for
the default ``num_conv=3``).

A drop-in for MMagic's ``PatchDiscriminator``: the same arguments, defaults
(batch norm), module names and outputs, so its checkpoints load strictly.
Our extra: ``norm_cfg=None``.
"""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
from torch import Tensor

from mm_cyclegan.models.generators._layers import (
    BATCH_NORM,
    NormCfg,
    conv_bias,
    conv_module,
    resolve_norm_cfg,
)
from mm_cyclegan.models.init_weights import PaperInitModule
from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import check_int

# Channel multiplier stops growing at 8 x base_channels.
_MAX_MULTIPLE = 8


@MODELS.register_module()
class PatchDiscriminator(PaperInitModule):
    """PatchGAN discriminator returning a map of real/fake logits.

    Args:
        in_channels: Channels of the images to judge.
        base_channels: Channels of the first conv.
        num_conv: Stride-2 convs (>= 1); 3 gives the 70 x 70 PatchGAN.
        norm_cfg: Any norm of MMCV's ``build_norm_layer``: ``dict(
            type='BN')`` (the default, MMagic's and pix2pix's), ``dict(
            type='IN')`` (instance norm, no affine; the CycleGAN paper: our
            CycleGAN configs state it), ...; or ``None``. Convs before a
            norm have a bias only with ``type='IN'`` (MMagic's rule).
        init_cfg: As for the generators; ``None`` means N(0, 0.02).

    ``forward`` maps ``(N, in_channels, H, W)`` to logits ``(N, 1, h, w)``
    (no sigmoid): 30 x 30 for a 256 x 256 input with ``num_conv=3``.
    """

    def __init__(self,
                 in_channels: int,
                 base_channels: int = 64,
                 num_conv: int = 3,
                 norm_cfg: NormCfg = BATCH_NORM,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = check_int('in_channels', in_channels, 1)
        base_channels = check_int('base_channels', base_channels, 1)
        num_conv = check_int('num_conv', num_conv, 1)
        norm_cfg = resolve_norm_cfg(norm_cfg)
        bias = conv_bias(norm_cfg)
        leaky = dict(type='LeakyReLU', negative_slope=0.2)

        # The first conv never has a norm, so it always keeps its bias.
        layers = [
            conv_module(
                in_channels, base_channels, 4, stride=2, padding=1,
                bias=True, norm_cfg=None, act_cfg=leaky)
        ]
        prev = base_channels
        for i in range(1, num_conv + 1):
            channels = base_channels * min(2**i, _MAX_MULTIPLE)
            layers.append(
                conv_module(
                    prev, channels, 4, stride=2 if i < num_conv else 1,
                    padding=1, bias=bias, norm_cfg=norm_cfg, act_cfg=leaky))
            prev = channels
        layers.append(nn.Conv2d(prev, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Return the patch logits ``(N, 1, h, w)`` of a batch ``x``."""
        return self.model(x)
