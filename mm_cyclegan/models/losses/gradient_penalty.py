"""The WGAN-GP gradient penalty (Gulrajani et al., 2017)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import check_number

# Keeps the norm's derivative finite where the gradient is exactly zero.
_EPS = 1e-12


@MODELS.register_module()
class GradientPenalty(nn.Module):
    """``loss_weight * mean((|grad_x D(x)|_2 - target_norm) ** 2)``.

    ``x`` are random interpolates between real and fake samples. The
    gradient is taken with ``create_graph=True``, so adding the result to
    the discriminator's loss changes the discriminator's gradients.

    Args:
        loss_weight: Lambda of the paper (10).
        target_norm: Gradient norm the penalty pulls towards (1).
    """

    def __init__(self, loss_weight: float = 10.0,
                 target_norm: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = check_number('loss_weight', loss_weight, 0)
        self.target_norm = check_number('target_norm', target_norm, 0)

    def extra_repr(self) -> str:
        """Show the hyperparameters when the module is printed."""
        return (f'loss_weight={self.loss_weight}, '
                f'target_norm={self.target_norm}')

    def forward(self,
                discriminator: nn.Module,
                real: Tensor,
                fake: Tensor,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """Penalty of ``discriminator`` at random real/fake interpolates.

        Args:
            discriminator: Called on the interpolates (call it through its
                DDP wrapper if it has one).
            real: Real batch ``(N, ...)``.
            fake: Fake batch of the same shape; detached here.
            generator: Draws the interpolation coefficients (one per
                sample); the global RNG when ``None``.
        """
        if real.shape != fake.shape:
            raise ValueError('real and fake must have the same shape, got '
                             f'{tuple(real.shape)} and {tuple(fake.shape)}')
        shape = (real.shape[0], ) + (1, ) * (real.dim() - 1)
        device = real.device if generator is None else generator.device
        alpha = torch.rand(
            shape, generator=generator, device=device,
            dtype=real.dtype).to(real.device)
        interp = alpha * real.detach() + (1 - alpha) * fake.detach()
        interp.requires_grad_(True)
        pred = discriminator(interp)
        (grad, ) = torch.autograd.grad(
            outputs=pred,
            inputs=interp,
            grad_outputs=torch.ones_like(pred),
            create_graph=True)
        norm = torch.sqrt(grad.flatten(1).pow(2).sum(dim=1) + _EPS)
        return self.loss_weight * ((norm - self.target_norm)**2).mean()
