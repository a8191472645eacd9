"""Registered losses: adversarial, gradient penalty, cycle and identity."""
from .gan_loss import GANLoss
from .gradient_penalty import GradientPenalty
from .pixel_losses import CycleConsistencyLoss, IdentityLoss, PixelDistanceLoss

__all__ = [
    'GANLoss', 'GradientPenalty', 'CycleConsistencyLoss', 'IdentityLoss',
    'PixelDistanceLoss'
]
