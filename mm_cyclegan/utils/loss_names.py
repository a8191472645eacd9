"""Names of the losses a :class:`~mm_cyclegan.models.CycleGAN` step logs.

The model writes them and monitoring (the training-health hook) reads them:
one definition, so a rename cannot silently switch a check off.
"""
from __future__ import annotations

__all__ = ['adversarial_loss', 'cycle_loss', 'discriminator_loss',
           'gradient_penalty_loss', 'identity_loss']


def adversarial_loss(direction: str) -> str:
    """The generator's GAN loss of ``direction`` ('a2b' or 'b2a')."""
    return f'loss_gan_{direction}'


def discriminator_loss(domain: str) -> str:
    """The discriminator loss of ``domain`` ('a' or 'b')."""
    return f'loss_d_{domain}'


def gradient_penalty_loss(domain: str) -> str:
    """The gradient penalty of the discriminator of ``domain``."""
    return f'loss_gp_{domain}'


def cycle_loss(domain: str) -> str:
    """The cycle loss ``|rec_x - real_x|`` of ``domain``."""
    return f'loss_cycle_{domain}'


def identity_loss(domain: str) -> str:
    """The identity loss ``|G(x) - x|`` of the images of ``domain``."""
    return f'loss_identity_{domain}'
