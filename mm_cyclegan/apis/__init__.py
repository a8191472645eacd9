"""User-facing helpers (training entry points, inference)."""
from mm_cyclegan.apis.inference import ModelInfo, Translator, init_translator
from mm_cyclegan.apis.weights import KINDS, LoadedWeights, load_weights

__all__ = [
    'Translator', 'ModelInfo', 'init_translator', 'load_weights',
    'LoadedWeights', 'KINDS'
]
