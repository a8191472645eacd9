"""The U-Net generator of pix2pix (used by the TensorFlow CycleGAN tutorial).

An encoder of ``num_down`` stride-2 4x4 convs and a mirrored decoder of
transposed convs, with the encoder feature of each level concatenated to
the decoder input of the same level (skip connections). Channels grow
``base, 2 base, 4 base, 8 base, 8 base, ...``; the innermost level has no
norm, and dropout sits in the decoder levels between the fifth and the
innermost (the three of ``unet_256``).

A drop-in for MMagic's ``UnetGenerator``: the levels are nested blocks with
MMagic's module names (``model.model.1.model.0.conv.weight`` ...), so
MMagic's pix2pix checkpoints load strictly and give the same outputs (so do
checkpoints of our first, flat ``encoder``/``decoder`` layout). Our extras:
``norm_cfg=None``, ``with_cp`` and ``num_down`` below 5 (MMagic always
builds at least five levels, whatever ``num_down`` says).
"""
from __future__ import annotations

import re
from typing import Any, Optional, cast

import torch
import torch.nn as nn
from torch import Tensor

from mm_cyclegan.models.generators._checkpoint import (
    WithCp,
    check_with_cp,
    maybe_checkpoint,
)
from mm_cyclegan.models.generators._layers import (
    BATCH_NORM,
    NormCfg,
    conv_bias,
    conv_module,
    resolve_norm_cfg,
)
from mm_cyclegan.models.init_weights import PaperInitModule
from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import check_bool, check_int

# Channel multiplier stops growing at 8 x base_channels.
_MAX_MULTIPLE = 8
# Decoder levels from this one (0 = outermost) to just above the innermost
# get dropout, as in the reference and MMagic.
_FIRST_DROPOUT_LEVEL = 4
# State-dict keys of our first U-Net layout (flat encoder/decoder lists).
_LEGACY_KEY = re.compile(r'(encoder)\.(\d+)\.(.*)|(decoder)\.(\d+)\.0\.(.*)')


class UnetLevel(nn.Module):
    """One level of the U-Net: down conv, the inner levels, up conv.

    ``model`` is ``Sequential(down, inner, up[, tanh or dropout])`` (no
    ``inner`` at the innermost level), MMagic's layout. Every level but the
    outermost returns its input concatenated with its output (the skip).
    Activations come first in each conv (LeakyReLU down, ReLU up).

    Args:
        outer_channels: Channels this level returns (before the skip).
        inner_channels: Channels of the down conv's output.
        in_channels: Channels of this level's input.
        inner: The next level inwards; ``None`` for the innermost.
        is_outermost: No activation and norm down, no norm and tanh up.
        norm_cfg: Resolved norm config (or ``None``).
        use_dropout: Dropout 0.5 after the up conv (middle levels only).
    """

    def __init__(self, outer_channels: int, inner_channels: int,
                 in_channels: int, inner: Optional[nn.Module],
                 is_outermost: bool, norm_cfg: Optional[dict],
                 use_dropout: bool) -> None:
        super().__init__()
        self.is_outermost = is_outermost
        is_innermost = inner is None
        bias = conv_bias(norm_cfg)
        down = conv_module(
            in_channels, inner_channels, 4, stride=2, padding=1, bias=bias,
            norm_cfg=None if is_outermost or is_innermost else norm_cfg,
            act_cfg=None if is_outermost else dict(
                type='LeakyReLU', negative_slope=0.2),
            inplace=False, order=('act', 'conv', 'norm'))
        up = conv_module(
            inner_channels * (1 if is_innermost else 2), outer_channels, 4,
            stride=2, padding=1, bias=True if is_outermost else bias,
            conv_cfg=dict(type=nn.ConvTranspose2d),
            norm_cfg=None if is_outermost else norm_cfg,
            act_cfg=dict(type='ReLU'), inplace=False,
            order=('act', 'conv', 'norm'))
        layers = [down] + ([] if is_innermost else [inner]) + [up]
        if is_outermost:
            layers.append(nn.Tanh())
        elif use_dropout:
            layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Outermost: the image; other levels: ``cat([x, level(x)])``."""
        if self.is_outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], dim=1)


@MODELS.register_module()
class UnetGenerator(PaperInitModule):
    """U-Net generator with skip connections.

    Args:
        in_channels: Channels of the input images.
        out_channels: Channels of the output images.
        num_down: Stride-2 downsamplings: 8 for 256 px, 7 for 128 px; the
            input's H and W must be divisible by ``2 ** num_down``.
        base_channels: Channels of the outermost conv.
        norm_cfg: Any norm of MMCV's ``build_norm_layer``: ``dict(
            type='BN')`` (default, as pix2pix), ``dict(type='IN')``, ...; or
            ``None`` / ``dict(type='none')``. Convs have a bias only with
            ``type='IN'`` or no norm (MMagic's rule).
        use_dropout: Dropout 0.5 in the inner decoder levels.
        init_cfg: As for :class:`ResnetGenerator`; ``None`` means N(0, 0.02).
        with_cp: ``True`` or ``'all'``: gradient checkpointing of the whole
            network (only its input is kept; the activations are recomputed
            in the backward pass). Outputs, gradients and BatchNorm running
            statistics are unchanged.

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
                 init_cfg: Optional[dict] = None,
                 with_cp: WithCp = False) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = check_int('in_channels', in_channels, 1)
        out_channels = check_int('out_channels', out_channels, 1)
        self.num_down = check_int('num_down', num_down, 2)
        base_channels = check_int('base_channels', base_channels, 1)
        norm_cfg = resolve_norm_cfg(norm_cfg)
        use_dropout = check_bool('use_dropout', use_dropout)
        self.with_cp = check_with_cp(with_cp, ('all', ))
        # channels[i]: output channels of the down conv of level i.
        channels = [
            base_channels * min(2**i, _MAX_MULTIPLE)
            for i in range(self.num_down)
        ]
        # Built from the innermost level outwards, each wrapping the last.
        level: Optional[nn.Module] = None
        for i in range(self.num_down - 1, -1, -1):
            outer = out_channels if i == 0 else channels[i - 1]
            level = UnetLevel(
                outer_channels=outer,
                inner_channels=channels[i],
                in_channels=in_channels if i == 0 else outer,
                inner=level,
                is_outermost=i == 0,
                norm_cfg=norm_cfg,
                use_dropout=(use_dropout and _FIRST_DROPOUT_LEVEL <= i <
                             self.num_down - 1))
        # The outermost level (num_down >= 2 levels were built).
        self.model = cast(UnetLevel, level)
        self._register_load_state_dict_pre_hook(self.upgrade_legacy_keys)

    def _level_prefix(self, level: int) -> str:
        return 'model.' + 'model.1.' * level

    def upgrade_legacy_keys(self, state_dict: dict, prefix: str = '',
                            *args: Any) -> None:
        """Load checkpoints of our first layout (``encoder.i``/``decoder.i``).

        Same layers as today, under other names: rename them in place.
        """
        for key in [k for k in state_dict if k.startswith(prefix)]:
            match = _LEGACY_KEY.fullmatch(key[len(prefix):])
            if match is None:
                continue
            part, level, rest = [g for g in match.groups() if g is not None]
            level = int(level)
            if part == 'encoder':
                position = 0
            else:
                position = 1 if level == self.num_down - 1 else 2
            state_dict[f'{prefix}{self._level_prefix(level)}model.'
                       f'{position}.{rest}'] = state_dict.pop(key)

    def forward(self, x: Tensor) -> Tensor:
        """Translate a batch ``(N, C_in, H, W)`` to ``(N, C_out, H, W)``."""
        factor = 2**self.num_down
        if x.dim() != 4 or x.shape[-2] % factor or x.shape[-1] % factor:
            raise ValueError(
                f'UnetGenerator with num_down={self.num_down} expects an '
                f'(N, C, H, W) batch with H and W divisible by {factor}, '
                f'got shape {tuple(x.shape)}')
        return maybe_checkpoint(self.with_cp, self.model, x)
