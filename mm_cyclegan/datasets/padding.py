"""Reflect padding to a multiple of the networks' stride: one rule for the
dataset (``preprocess='none'``), the Translator, the exported models and the
runner's start-up size check, so a translated image and a training image of
the same size are padded alike."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ['pad_array', 'padded_size', 'padding_for']


def padded_size(size: Any, multiple: int, minimum: int = 1) -> Any:
    """``size`` raised to ``minimum``, then up to a multiple of ``multiple``.

    Plain arithmetic only when ``minimum <= 1``, so a traced size (ONNX /
    TorchScript export) stays symbolic.
    """
    if minimum > 1:
        size = max(size, minimum)
    return size + (-size % multiple)


def padding_for(height: Any, width: Any, multiple: int,
                minimum: int = 1) -> tuple:
    """``(top, bottom, left, right)`` to reach multiples of ``multiple``.

    The padding is split evenly, the extra pixel to the bottom / right;
    sides shorter than ``minimum`` are padded up to it first.
    """
    pad_h = padded_size(height, multiple, minimum) - height
    pad_w = padded_size(width, multiple, minimum) - width
    return (pad_h // 2, pad_h - pad_h // 2, pad_w // 2, pad_w - pad_w // 2)


def pad_array(values: np.ndarray, padding: tuple) -> np.ndarray:
    """Reflect-pad an (H, W, C) array by ``padding``: numpy reflects
    repeatedly when a side is shorter than its padding; a 1-pixel side is
    edge-padded (nothing to reflect)."""
    top, bottom, left, right = padding
    if not any(padding):
        return values
    mode = 'reflect' if min(values.shape[:2]) > 1 else 'edge'
    return np.pad(values, ((top, bottom), (left, right), (0, 0)),
                  mode=mode)  # type: ignore[call-overload]
