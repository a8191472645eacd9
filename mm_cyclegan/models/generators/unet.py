"""The U-Net generator of pix2pix (used by the TensorFlow CycleGAN tutorial).

An encoder of ``num_down`` stride-2 4x4 convs and a mirrored decoder of
transposed convs, with the encoder feature of each level concatenated to
the decoder input of the same level (skip connections). Channels grow
``base, 2 base, 4 base, 8 base, 8 base, ...``; the innermost level has no
norm, and dropout sits in the decoder levels between the fifth and the
innermost (the three of ``unet_256``).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mm_cyclegan.models.generators._layers import (
    BATCH_NORM,
    NormCfg,
    check_bool,
    check_int,
    conv_module,
    norm_has_shift,
    resolve_norm_cfg,
)
from mm_cyclegan.models.init_weights import PaperInitModule
from mm_cyclegan.registry import MODELS

# Channel multiplier stops growing at 8 x base_channels.
_MAX_MULTIPLE = 8
# Decoder levels from this one (0 = outermost) to just above the innermost
# get dropout, as in the reference and MMagic.
_FIRST_DROPOUT_LEVEL = 4


@MODELS.register_module()
class UnetGenerator(PaperInitModule):
    """U-Net generator with skip connections.

    Args:
        in_channels: Channels of the input images.
        out_channels: Channels of the output images.
        num_down: Stride-2 downsamplings: 8 for 256 px, 7 for 128 px; the
            input's H and W must be divisible by ``2 ** num_down``.
        base_channels: Channels of the outermost conv.
        norm_cfg: ``dict(type='BN')`` (default, as pix2pix), ``dict(
            type='IN')`` or ``None`` / ``dict(type='none')``.
        use_dropout: Dropout 0.5 in the inner decoder levels.
        init_cfg: As for :class:`ResnetGenerator`; ``None`` means N(0, 0.02).

    ``forward`` maps ``(N, in_channels, H, W)`` to ``(N, out_channels, H,
    W)`` in [-1, 1].
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_down: int = 8,
                 base_channels: int = 64,
                 norm_cfg: NormCfg = BATCH_NORM,
                 use_dropout: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = check_int('in_channels', in_channels, 1)
        out_channels = check_int('out_channels', out_channels, 1)
        self.num_down = check_int('num_down', num_down, 2)
        base_channels = check_int('base_channels', base_channels, 1)
        norm_cfg = resolve_norm_cfg(norm_cfg)
        use_dropout = check_bool('use_dropout', use_dropout)
        bias = not norm_has_shift(norm_cfg)
        innermost = self.num_down - 1
        channels = [
            base_channels * min(2**i, _MAX_MULTIPLE)
            for i in range(self.num_down)
        ]
        leaky = dict(type='LeakyReLU', negative_slope=0.2)
        relu = dict(type='ReLU')

        # encoder[i] maps level i-1 features (the image for i = 0) to level
        # i; activations come first so each level's output is its skip.
        self.encoder = nn.ModuleList()
        for i in range(self.num_down):
            is_outer = i == 0
            self.encoder.append(
                conv_module(
                    in_channels if is_outer else channels[i - 1],
                    channels[i], 4, stride=2, padding=1, bias=bias,
                    norm_cfg=None if i in (0, innermost) else norm_cfg,
                    act_cfg=None if is_outer else leaky,
                    inplace=False, order=('act', 'conv', 'norm')))

        # decoder[i] maps level i (concatenated with its skip, except at the
        # innermost level) back to the resolution of level i-1.
        self.decoder = nn.ModuleList()
        for i in range(self.num_down):
            is_outer = i == 0
            up = conv_module(
                channels[i] * (1 if i == innermost else 2),
                out_channels if is_outer else channels[i - 1],
                4, stride=2, padding=1, bias=True if is_outer else bias,
                conv_cfg=dict(type=nn.ConvTranspose2d),
                norm_cfg=None if is_outer else norm_cfg, act_cfg=relu,
                inplace=False, order=('act', 'conv', 'norm'))
            if is_outer:
                self.decoder.append(nn.Sequential(up, nn.Tanh()))
            elif use_dropout and _FIRST_DROPOUT_LEVEL <= i < innermost:
                self.decoder.append(nn.Sequential(up, nn.Dropout(0.5)))
            else:
                self.decoder.append(nn.Sequential(up))

    def forward(self, x: Tensor) -> Tensor:
        """Translate a batch ``(N, C_in, H, W)`` to ``(N, C_out, H, W)``."""
        factor = 2**self.num_down
        if x.dim() != 4 or x.shape[-2] % factor or x.shape[-1] % factor:
            raise ValueError(
                f'UnetGenerator with num_down={self.num_down} expects an '
                f'(N, C, H, W) batch with H and W divisible by {factor}, '
                f'got shape {tuple(x.shape)}')
        skips = []
        for down in self.encoder:
            x = down(x)
            skips.append(x)
        x = self.decoder[-1](skips.pop())
        for level in range(self.num_down - 2, -1, -1):
            x = self.decoder[level](torch.cat([skips.pop(), x], dim=1))
        return x
