"""The 1x1 PixelGAN discriminator of pix2pix: one logit per pixel."""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
from torch import Tensor

from mm_cyclegan.models.generators._layers import (
    INSTANCE_NORM,
    NormCfg,
    conv_bias,
    conv_module,
    resolve_norm_cfg,
)
from mm_cyclegan.models.init_weights import PaperInitModule
from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import check_int


@MODELS.register_module()
class PixelDiscriminator(PaperInitModule):
    """PixelGAN: three 1x1 convs judging colour statistics per pixel.

    Args:
        in_channels: Channels of the images to judge.
        base_channels: Channels of the first conv (the second has twice).
        norm_cfg: Any norm of MMCV's ``build_norm_layer`` (default
            ``dict(type='IN')``) or ``None``; applied after the second conv,
            which has a bias only with ``type='IN'`` or no norm.
        init_cfg: As for the generators; ``None`` means N(0, 0.02).

    ``forward`` maps ``(N, in_channels, H, W)`` to logits ``(N, 1, H, W)``.
    """

    def __init__(self,
                 in_channels: int,
                 base_channels: int = 64,
                 norm_cfg: NormCfg = INSTANCE_NORM,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = check_int('in_channels', in_channels, 1)
        base_channels = check_int('base_channels', base_channels, 1)
        norm_cfg = resolve_norm_cfg(norm_cfg)
        leaky = dict(type='LeakyReLU', negative_slope=0.2)
        self.model = nn.Sequential(
            conv_module(
                in_channels, base_channels, 1, bias=True, norm_cfg=None,
                act_cfg=leaky),
            conv_module(
                base_channels, base_channels * 2, 1,
                bias=conv_bias(norm_cfg), norm_cfg=norm_cfg,
                act_cfg=leaky),
            nn.Conv2d(base_channels * 2, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        """Return the per-pixel logits ``(N, 1, H, W)`` of a batch ``x``."""
        return self.model(x)
