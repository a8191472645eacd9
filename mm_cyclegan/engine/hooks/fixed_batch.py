"""Translate a fixed batch of samples, as the monitoring hooks do."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import is_model_wrapper
from torch import Tensor


def translate_fixed_batch(runner, batch: Optional[dict],
                          reconstruct: bool = False) -> dict[str, Tensor]:
    """Translate ``batch`` both ways with the networks in eval mode.

    Returns ``real_a``, ``real_b``, ``fake_b``, ``fake_a`` and, with
    ``reconstruct``, ``rec_a``/``rec_b``. The model's previous train/eval
    mode is restored, and no gradient is recorded.
    """
    if batch is None:
        raise ValueError('no fixed batch yet: it is taken in before_train')
    model = runner.model
    model = model.module if is_model_wrapper(model) else model
    was_training = model.training
    model.eval()
    try:
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            out = dict(real_a=data['img_a'], real_b=data['img_b'])
            out['fake_b'] = model.translate(out['real_a'], 'a2b')
            out['fake_a'] = model.translate(out['real_b'], 'b2a')
            if reconstruct:
                out['rec_a'] = model.translate(out['fake_b'], 'b2a')
                out['rec_b'] = model.translate(out['fake_a'], 'a2b')
    finally:
        model.train(was_training)
    return out
