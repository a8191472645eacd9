"""User-facing helpers (training entry points, inference).

``from mm_cyclegan.apis import Translator`` works; the inference layer is
imported on first use, so ``mm_cyclegan.apis.training`` (tools/train.py)
does not load it.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    'Translator': 'mm_cyclegan.apis.inference.translator',
    'ModelInfo': 'mm_cyclegan.apis.inference.translator',
    'init_translator': 'mm_cyclegan.apis.inference.translator',
    'load_weights': 'mm_cyclegan.apis.weights.load',
    'LoadedWeights': 'mm_cyclegan.apis.weights.kinds',
    'KINDS': 'mm_cyclegan.apis.weights.kinds',
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
