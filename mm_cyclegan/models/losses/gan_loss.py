"""Adversarial losses: LSGAN, vanilla (BCE on logits), hinge and WGAN."""
from __future__ import annotations

from numbers import Real

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mm_cyclegan.registry import MODELS

GAN_TYPES = ('lsgan', 'vanilla', 'hinge', 'wgan')


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f'{name} must be a number, got {value!r} '
                        f'({type(value).__name__})')
    return float(value)


@MODELS.register_module()
class GANLoss(nn.Module):
    """Adversarial loss on discriminator logits (no sigmoid applied before).

    Args:
        gan_type: ``'lsgan'`` (mean squared error to the label; the
            paper's), ``'vanilla'`` (binary cross-entropy with logits),
            ``'hinge'`` or ``'wgan'``.
        real_label_val: Target of real predictions (lsgan, vanilla).
        fake_label_val: Target of fake predictions (lsgan, vanilla).
        loss_weight: Multiplies the *generator's* loss. As in MMagic's
            ``GANLoss``, the discriminator's loss is returned unweighted.

    ``forward(pred, target_is_real, is_disc)`` returns a scalar. For
    ``hinge`` the discriminator gets ``mean(relu(1 - pred))`` on reals and
    ``mean(relu(1 + pred))`` on fakes, the generator ``-mean(pred)``. For
    ``wgan`` reals give ``-mean(pred)`` and fakes ``mean(pred)``.
    """

    def __init__(self,
                 gan_type: str = 'lsgan',
                 real_label_val: float = 1.0,
                 fake_label_val: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if gan_type not in GAN_TYPES:
            raise ValueError(f'unknown gan_type {gan_type!r}; expected one '
                             f'of {GAN_TYPES}')
        self.gan_type = gan_type
        self.real_label_val = _check_real('real_label_val', real_label_val)
        self.fake_label_val = _check_real('fake_label_val', fake_label_val)
        self.loss_weight = _check_real('loss_weight', loss_weight)

    def extra_repr(self) -> str:
        """Show the hyperparameters when the module is printed."""
        return (f'gan_type={self.gan_type!r}, real_label_val='
                f'{self.real_label_val}, fake_label_val={self.fake_label_val}'
                f', loss_weight={self.loss_weight}')

    def forward(self,
                pred: Tensor,
                target_is_real: bool,
                is_disc: bool = False) -> Tensor:
        """Loss of logits ``pred`` judged against real or fake.

        Args:
            pred: Discriminator output of any shape.
            target_is_real: Whether ``pred`` should be judged real.
            is_disc: Whether the loss is the discriminator's (only hinge
                differs between the two, and only the generator's loss is
                weighted).
        """
        if self.gan_type == 'hinge':
            if not is_disc:
                # The generator raises D's score whatever the target.
                loss = -pred.mean()
            elif target_is_real:
                loss = F.relu(1.0 - pred).mean()
            else:
                loss = F.relu(1.0 + pred).mean()
        elif self.gan_type == 'wgan':
            loss = -pred.mean() if target_is_real else pred.mean()
        else:
            label = (self.real_label_val
                     if target_is_real else self.fake_label_val)
            target = torch.full_like(pred, label)
            if self.gan_type == 'lsgan':
                loss = F.mse_loss(pred, target)
            else:
                loss = F.binary_cross_entropy_with_logits(pred, target)
        return loss if is_disc else loss * self.loss_weight
