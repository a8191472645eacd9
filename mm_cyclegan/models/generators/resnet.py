"""The ResNet generator of the CycleGAN paper (Johnson et al.'s network).

c7s1-64, d128, d256, ``num_blocks`` x R256, u128, u64, c7s1-3 with tanh.
A drop-in for MMagic's ``ResnetGenerator``: the same arguments, defaults,
module names and outputs, so MMagic's checkpoints load strictly into the
default (``upsample_mode='deconv'``) variant. Our extras: ``upsample_mode``,
``with_cp`` (residual blocks or the whole network) and ``norm_cfg=None``.
"""
from __future__ import annotations

from typing import Optional

import torch.nn as nn
from torch import Tensor

from mm_cyclegan.models.generators._checkpoint import (
    WithCp,
    check_with_cp,
    maybe_checkpoint,
)
from mm_cyclegan.models.generators._layers import (
    INSTANCE_NORM,
    NormCfg,
    check_padding_mode,
    conv_bias,
    conv_module,
    resolve_norm_cfg,
)
from mm_cyclegan.models.init_weights import PaperInitModule
from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import (
    AssertionValueError,
    check_bool,
    check_choice,
    check_int,
)

UPSAMPLE_MODES = ('deconv', 'resize_conv')
# with_cp=True means 'blocks'.
CHECKPOINT_MODES = ('blocks', 'all')

# Downsampling steps of the paper's network; inputs need H, W divisible by
# 2 ** _NUM_DOWN.
_NUM_DOWN = 2


class ResidualBlock(nn.Module):
    """conv3x3-norm-ReLU-(dropout)-conv3x3-norm plus the identity.

    With ``with_cp`` the block's activations are recomputed in the backward
    pass instead of being stored (gradient checkpointing).
    """

    def __init__(self, channels: int, padding_mode: str,
                 norm_cfg: Optional[dict], use_dropout: bool,
                 with_cp: bool) -> None:
        super().__init__()
        bias = conv_bias(norm_cfg)
        layers = [
            conv_module(
                channels, channels, 3, padding=1, bias=bias,
                norm_cfg=norm_cfg, padding_mode=padding_mode)
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers.append(
            conv_module(
                channels, channels, 3, padding=1, bias=bias,
                norm_cfg=norm_cfg, act_cfg=None, padding_mode=padding_mode))
        self.block = nn.Sequential(*layers)
        self.with_cp = with_cp

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x + block(x)``."""
        return x + maybe_checkpoint(self.with_cp, self.block, x)


class ResizeConv(nn.Module):
    """Nearest-neighbour 2x resize then a 3x3 conv (Odena et al., 2016).

    Replaces the transposed convolution when ``upsample_mode='resize_conv'``
    to avoid checkerboard artefacts; it has the same parameter count.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: Optional[dict], bias: bool,
                 padding_mode: str) -> None:
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode='nearest')
        self.conv = conv_module(
            in_channels, out_channels, 3, padding=1, bias=bias,
            norm_cfg=norm_cfg, padding_mode=padding_mode)

    def forward(self, x: Tensor) -> Tensor:
        """Upsample ``x`` by 2 and convolve."""
        return self.conv(self.upsample(x))


def _upsample_layer(channels: int, upsample_mode: str,
                    norm_cfg: Optional[dict], bias: bool,
                    padding_mode: str) -> nn.Module:
    """One 2x upsampling step halving ``channels``, as ``upsample_mode``."""
    if upsample_mode == 'deconv':
        return conv_module(
            channels, channels // 2, 3, stride=2, padding=1, bias=bias,
            norm_cfg=norm_cfg,
            conv_cfg=dict(type=nn.ConvTranspose2d, output_padding=1))
    return ResizeConv(channels, channels // 2, norm_cfg, bias, padding_mode)


@MODELS.register_module()
class ResnetGenerator(PaperInitModule):
    """ResNet-based generator: downsample, residual blocks, upsample.

    Args:
        in_channels: Channels of the input images.
        out_channels: Channels of the output images (may differ).
        base_channels: Channels of the first conv; the blocks use 4x this.
        norm_cfg: Any norm of MMCV's ``build_norm_layer``: ``dict(
            type='IN')`` (instance norm, no affine; the paper), ``dict(
            type='BN')``, ``dict(type='GN', num_groups=...)``, ...; or
            ``None`` / ``dict(type='none')``. Convs before a norm have a bias
            only for ``type='IN'`` (MMagic's rule).
        use_dropout: Dropout 0.5 inside every residual block.
        num_blocks: Residual blocks: 9 for 256 px, 6 for 128 px, any >= 0.
        padding_mode: Padding of the 7x7 and residual convs: 'reflect'
            (paper), 'replicate' or 'zeros'.
        init_cfg: ``dict(type='normal'|'xavier'|'kaiming'|'orthogonal',
            gain=0.02)`` or ``dict(type='Pretrained', checkpoint=...)``;
            ``None`` means N(0, 0.02), the paper's (MMagic's default).
        upsample_mode: 'deconv' (transposed conv, paper) or 'resize_conv'
            (nearest resize then conv; no checkerboard artefacts).
        with_cp: Gradient checkpointing (activations recomputed in the
            backward pass instead of stored): ``True`` or ``'blocks'``
            checkpoints each residual block; ``'all'`` the whole network,
            which then keeps only its input, so a CycleGAN step's
            activation memory is about one generator pass instead of six.
            Either costs about one more forward pass of the blocks (most
            of the FLOPs); outputs and gradients are unchanged.

    ``forward`` maps ``(N, in_channels, H, W)`` to ``(N, out_channels, H,
    W)`` in [-1, 1]; H and W must be divisible by 4.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 base_channels: int = 64,
                 norm_cfg: NormCfg = INSTANCE_NORM,
                 use_dropout: bool = False,
                 num_blocks: int = 9,
                 padding_mode: str = 'reflect',
                 init_cfg: Optional[dict] = None,
                 upsample_mode: str = 'deconv',
                 with_cp: WithCp = False) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = check_int('in_channels', in_channels, 1)
        out_channels = check_int('out_channels', out_channels, 1)
        base_channels = check_int('base_channels', base_channels, 1)
        num_blocks = check_int('num_blocks', num_blocks, 0,
                               error=AssertionValueError)
        norm_cfg = resolve_norm_cfg(norm_cfg)
        padding_mode = check_padding_mode(padding_mode)
        use_dropout = check_bool('use_dropout', use_dropout)
        self.with_cp = check_with_cp(with_cp, CHECKPOINT_MODES)
        self.upsample_mode = check_choice('upsample_mode', upsample_mode,
                                          UPSAMPLE_MODES)
        bias = conv_bias(norm_cfg)

        layers = [
            conv_module(
                in_channels, base_channels, 7, padding=3, bias=bias,
                norm_cfg=norm_cfg, padding_mode=padding_mode)
        ]
        # The strided convs pad with zeros, as in the reference.
        for i in range(_NUM_DOWN):
            channels = base_channels * 2**i
            layers.append(
                conv_module(
                    channels, channels * 2, 3, stride=2, padding=1,
                    bias=bias, norm_cfg=norm_cfg))
        channels = base_channels * 2**_NUM_DOWN
        for _ in range(num_blocks):
            layers.append(
                ResidualBlock(channels, padding_mode, norm_cfg, use_dropout,
                              self.with_cp == 'blocks'))
        for _ in range(_NUM_DOWN):
            layers.append(
                _upsample_layer(channels, self.upsample_mode, norm_cfg, bias,
                                padding_mode))
            channels //= 2
        layers.append(
            conv_module(
                base_channels, out_channels, 7, padding=3, bias=True,
                norm_cfg=None, act_cfg=dict(type='Tanh'),
                padding_mode=padding_mode))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Translate a batch ``(N, C_in, H, W)`` to ``(N, C_out, H, W)``."""
        factor = 2**_NUM_DOWN
        if x.dim() != 4 or x.shape[-2] % factor or x.shape[-1] % factor:
            raise ValueError(
                'ResnetGenerator expects an (N, C, H, W) batch with H and W '
                f'divisible by {factor}, got shape {tuple(x.shape)}')
        return maybe_checkpoint(self.with_cp == 'all', self.model, x)
