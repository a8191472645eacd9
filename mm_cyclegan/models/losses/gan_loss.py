"""Adversarial losses: LSGAN, vanilla, hinge, WGAN, L1 and soft-mask GAN.

A drop-in for MMagic's ``GANLoss`` (same arguments, call signature, values
and an empty state dict), including the soft-mask LSGAN ``'smgan'`` of
MMagic's AOT-GAN inpainting model.
"""
from __future__ import annotations

from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import (
    NotImplementedValueError,
    check_choice,
    check_int,
    check_number,
)

GAN_TYPES = ('lsgan', 'vanilla', 'hinge', 'wgan', 'l1', 'smgan')

# The soft-mask target of 'smgan' (AOT-GAN): the inpainting mask blurred
# by a 71 x 71 Gaussian of sigma 10, as MMagic's GaussianBlur defaults.
_SMGAN_BLUR_SIZE = 71
_SMGAN_BLUR_SIGMA = 10.0

Label = Union[float, Tensor]


def _check_label(name: str, value: object) -> Label:
    """A label value: a number, or a tensor (MMagic multiplies by it)."""
    if isinstance(value, Tensor):
        if value.is_floating_point() or value.is_complex():
            return value
        raise TypeError(f'{name} must be a number or a floating-point '
                        f'tensor, got {value!r}')
    return check_number(name, value)


def gaussian_kernel(size: int, sigma: float) -> Tensor:
    """A normalised ``(size, size)`` Gaussian kernel, centred.

    The outer product of two normalised 1-D Gaussians; ``size`` must be odd.
    """
    size = check_int('kernel size', size, 1)
    if size % 2 == 0:
        raise ValueError(f'kernel size must be odd, got {size}')
    sigma = check_number('sigma', sigma)
    if sigma <= 0:
        raise ValueError(f'sigma must be > 0, got {sigma}')
    offsets = torch.arange(size, dtype=torch.float64) - size // 2
    line = torch.exp(-offsets**2 / (2 * sigma**2))
    line = line / line.sum()
    return torch.outer(line, line).float()


@MODELS.register_module()
class GANLoss(nn.Module):
    """Adversarial loss on discriminator outputs (no sigmoid applied before).

    Args:
        gan_type: ``'lsgan'`` (mean squared error to the label; the
            paper's), ``'vanilla'`` (binary cross-entropy with logits),
            ``'hinge'``, ``'wgan'``, ``'l1'`` (mean absolute error to the
            label) or ``'smgan'`` (AOT-GAN's soft-mask LSGAN: needs
            ``mask``).
        real_label_val: Target of real predictions; a number or a tensor.
        fake_label_val: Target of fake predictions; a number or a tensor.
        loss_weight: Multiplies the *generator's* loss. As in MMagic's
            ``GANLoss``, the discriminator's loss is returned unweighted.

    ``forward(input, target_is_real, is_disc=False, mask=None)`` returns a
    scalar. For ``hinge`` the discriminator gets ``mean(relu(1 - input))`` on
    reals and ``mean(relu(1 + input))`` on fakes, the generator
    ``-mean(input)``. For ``wgan`` reals give ``-mean(input)`` and fakes
    ``mean(input)``. For ``smgan`` the discriminator's output is resized
    (bilinear) to the mask's size; fakes are pushed towards the blurred
    mask, and reals and the generator's fakes towards the real label.
    """

    def __init__(self,
                 gan_type: str = 'lsgan',
                 real_label_val: Label = 1.0,
                 fake_label_val: Label = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.gan_type = check_choice('gan_type', gan_type, GAN_TYPES,
                                     error=NotImplementedValueError)
        self.real_label_val = _check_label('real_label_val', real_label_val)
        self.fake_label_val = _check_label('fake_label_val', fake_label_val)
        self.loss_weight = check_number('loss_weight', loss_weight)
        if gan_type == 'smgan':
            # Not persistent: the state dict stays empty, like MMagic's.
            self.register_buffer(
                'blur_kernel',
                gaussian_kernel(_SMGAN_BLUR_SIZE, _SMGAN_BLUR_SIGMA),
                persistent=False)

    def extra_repr(self) -> str:
        """Show the hyperparameters when the module is printed."""
        return (f'gan_type={self.gan_type!r}, real_label_val='
                f'{self.real_label_val}, fake_label_val={self.fake_label_val}'
                f', loss_weight={self.loss_weight}')

    def get_target_label(self, input: Tensor,
                         target_is_real: bool) -> Union[bool, Tensor]:
        """The target of ``input``: a label tensor of its shape.

        For ``wgan`` (which has no target) ``target_is_real`` itself, as
        MMagic's method of the same name returns.
        """
        if self.gan_type == 'wgan':
            return target_is_real
        return self._label_like(input, target_is_real)

    def _label_like(self, input: Tensor, target_is_real: bool) -> Tensor:
        label = self.real_label_val if target_is_real else self.fake_label_val
        return input.new_ones(input.size()) * label

    def _blur(self, mask: Tensor) -> Tensor:
        """``mask`` blurred channel by channel (zero padding)."""
        channels = mask.shape[1]
        kernel = self.get_buffer('blur_kernel').to(mask.dtype)
        kernel = kernel.expand(channels, 1, *kernel.shape)
        return F.conv2d(mask, kernel, padding=_SMGAN_BLUR_SIZE // 2,
                        groups=channels)

    def _smgan(self, input: Tensor, target_is_real: bool, is_disc: bool,
               mask: Optional[Tensor]) -> Tensor:
        if not isinstance(mask, Tensor) or mask.dim() != 4:
            got = (f'shape {tuple(mask.shape)}' if isinstance(mask, Tensor)
                   else repr(mask))
            raise ValueError("gan_type 'smgan' needs mask=, an (N, C, H, W) "
                             f'tensor, got {got}')
        if input.shape[2:] != mask.shape[2:]:
            input = F.interpolate(input, size=mask.shape[2:],
                                  mode='bilinear', align_corners=True)
        if is_disc and not target_is_real:
            return F.mse_loss(input, self._blur(mask).detach())
        loss = F.mse_loss(input, self._label_like(input, target_is_real))
        if is_disc:
            return loss
        # MMagic weighs the (already averaged) error by mask / mean(mask)
        # and averages again; kept as is so that the values are MMagic's.
        return (loss * mask / mask.mean()).mean()

    def forward(self,
                input: Tensor,
                target_is_real: bool,
                is_disc: bool = False,
                mask: Optional[Tensor] = None) -> Tensor:
        """Loss of the discriminator output ``input`` judged real or fake.

        Args:
            input: Discriminator output of any shape (``(N, C, h, w)`` for
                ``smgan``).
            target_is_real: Whether ``input`` should be judged real.
            is_disc: Whether the loss is the discriminator's (hinge and
                smgan differ between the two, and only the generator's loss
                is weighted).
            mask: The inpainting mask ``(N, C, H, W)``, for ``smgan`` only
                (ignored by the other types, as in MMagic).
        """
        if self.gan_type == 'hinge':
            if not is_disc:
                # The generator raises D's score whatever the target.
                loss = -input.mean()
            elif target_is_real:
                loss = F.relu(1.0 - input).mean()
            else:
                loss = F.relu(1.0 + input).mean()
        elif self.gan_type == 'wgan':
            loss = -input.mean() if target_is_real else input.mean()
        elif self.gan_type == 'smgan':
            loss = self._smgan(input, target_is_real, is_disc, mask)
        else:
            target = self._label_like(input, target_is_real)
            if self.gan_type == 'lsgan':
                loss = F.mse_loss(input, target)
            elif self.gan_type == 'l1':
                loss = F.l1_loss(input, target)
            else:
                loss = F.binary_cross_entropy_with_logits(input, target)
        return loss if is_disc else loss * self.loss_weight
