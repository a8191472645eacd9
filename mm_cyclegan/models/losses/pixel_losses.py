"""Pixel-wise reconstruction losses: cycle consistency and identity."""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils.validation import check_choice, check_number

MODES = ('l1', 'l2')


class PixelDistanceLoss(nn.Module):
    """``loss_weight * mean(|pred - target|)`` (l1) or of its square (l2).

    Args:
        loss_weight: Multiplies the mean distance.
        mode: ``'l1'`` (the paper's) or ``'l2'``.
    """

    loss_weight: float
    mode: str

    def __init__(self, loss_weight: float = 1.0, mode: str = 'l1') -> None:
        super().__init__()
        self.loss_weight = check_number('loss_weight', loss_weight, 0)
        self.mode = check_choice('mode', mode, MODES)

    def extra_repr(self) -> str:
        """Show the hyperparameters when the module is printed."""
        return f'loss_weight={self.loss_weight}, mode={self.mode!r}'

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Weighted mean distance between ``pred`` and ``target``."""
        if pred.shape != target.shape:
            # Broadcasting would silently compare the wrong pixels.
            raise ValueError('pred and target must have the same shape, got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        if self.mode == 'l1':
            loss = F.l1_loss(pred, target)
        else:
            loss = F.mse_loss(pred, target)
        return self.loss_weight * loss


@MODELS.register_module()
class CycleConsistencyLoss(PixelDistanceLoss):
    """Distance between an image and its round trip ``G_ba(G_ab(x))``.

    ``loss_weight`` is the paper's lambda (10).
    """

    def __init__(self, loss_weight: float = 10.0, mode: str = 'l1') -> None:
        super().__init__(loss_weight=loss_weight, mode=mode)


@MODELS.register_module()
class IdentityLoss(PixelDistanceLoss):
    """Distance between an image and its translation into its own domain.

    ``loss_weight`` is the *effective* weight: the paper's lambda_identity
    (0.5) times the cycle weight (10) = 5. MMagic 1.2.0 uses 0.5 here.
    """

    def __init__(self, loss_weight: float = 5.0, mode: str = 'l1') -> None:
        super().__init__(loss_weight=loss_weight, mode=mode)
