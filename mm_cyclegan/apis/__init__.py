"""User-facing helpers (training entry points, inference).

``from mm_cyclegan.apis import Translator`` works; the inference layer is
imported on first use, so ``mm_cyclegan.apis.training`` (tools/train.py)
does not load it.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    'Translator': 'mm_cyclegan.apis.inference',
    'ModelInfo': 'mm_cyclegan.apis.inference',
    'init_translator': 'mm_cyclegan.apis.inference',
    'load_weights': 'mm_cyclegan.apis.weights',
    'LoadedWeights': 'mm_cyclegan.apis.weights',
    'KINDS': 'mm_cyclegan.apis.weights',
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
