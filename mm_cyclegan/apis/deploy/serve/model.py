"""The model behind the page: one :class:`~mm_cyclegan.apis.Translator`.

Everything about weights and generators belongs to the inference layer
(:mod:`mm_cyclegan.apis.inference.translator`): this module only asks it
for the directions the weights hold, turns its metadata into what the page
shows, and runs a translation (plus, on request, the way back).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

from mm_cyclegan.utils.validation import check_choice

__all__ = ['ServedModel', 'Translation']


def _other(direction: str) -> str:
    return 'b2a' if direction == 'a2b' else 'a2b'


@dataclass
class Translation:
    """The result of one request: the translation and, when asked for and
    possible, the reconstruction (the translation translated back)."""

    output: np.ndarray
    reconstruction: Optional[np.ndarray] = None


class ServedModel:
    """A :class:`~mm_cyclegan.apis.Translator` and the page's view of it.

    The translator is only read (its generators run in inference mode), so
    one instance serves every request.
    """

    def __init__(self, translator) -> None:
        self.translator = translator
        self.directions = list(translator.directions)
        self.metadata = _metadata(translator)

    @classmethod
    def from_file(cls, weights: str, device: str = 'cpu') -> 'ServedModel':
        """Load ``weights`` (any kind ``tools/translate.py`` accepts)."""
        from mm_cyclegan.apis import Translator, load_weights
        loaded = load_weights(os.fspath(weights))
        if not loaded.directions:
            raise ValueError(f'{weights} holds no generator to translate '
                             'with')
        # The first direction the file holds is the page's default.
        return cls(Translator.from_loaded(loaded, loaded.directions[0],
                                          device=device))

    def describe(self) -> str:
        """One line: architecture, iterations, source, directions."""
        meta = self.metadata
        parts = [meta['architecture']]
        if meta['iterations'] is not None:
            parts.append(f'{meta["iterations"]} iterations')
        parts.append(f'from {meta["source"]}')
        parts.append('directions ' + ', '.join(
            meta['direction_names'][d] for d in self.directions))
        return '; '.join(parts)

    def translate(self, pixels: np.ndarray, direction: str,
                  reconstruct: bool = False) -> Translation:
        """Translate uint8/uint16 (H, W, C) pixels in ``direction``.

        ``reconstruct`` also translates the result back, when the weights
        hold the other generator. Alpha and gray are the translator's
        business (it keeps alpha, converts channels as in training).
        """
        check_choice('direction', direction, self.directions)
        output = self.translator(pixels, direction=direction)
        reconstruction = None
        if reconstruct and _other(direction) in self.directions:
            reconstruction = self.translator(output,
                                             direction=_other(direction))
        return Translation(_with_channel_axis(output),
                           None if reconstruction is None else
                           _with_channel_axis(reconstruction))


def _with_channel_axis(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _metadata(translator) -> dict:
    """What the page shows about the model (JSON-serialisable)."""
    info = translator.info
    name_a, name_b = info.domains
    names = {'a2b': f'{name_a} → {name_b}', 'b2a': f'{name_b} → {name_a}'}
    architectures = {info.describe(d) for d in translator.directions}
    return {
        'architecture': ' / '.join(sorted(architectures)),
        'iterations': info.iterations,
        # The file name only: the page must not reveal the server's paths.
        'source': os.path.basename(os.path.normpath(info.source)),
        'kind': info.kind,
        'source_sha256': info.source_sha256,
        'domains': list(info.domains),
        'direction_names': {d: names[d] for d in translator.directions},
        'precision': str(translator.precision),
        'device': str(translator.device),
    }
