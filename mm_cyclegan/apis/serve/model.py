"""The model behind the page: one or two :class:`Translator` objects.

Everything about weights and generators is the inference layer's
(:class:`mm_cyclegan.apis.Translator`); this module only picks the
directions the weights hold, keeps their metadata for the page, and turns
decoded upload pixels into the translator's input and back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ['ServedModel', 'Translation']

DIRECTIONS = ('a2b', 'b2a')


def _other(direction: str) -> str:
    return 'b2a' if direction == 'a2b' else 'a2b'


@dataclass
class Translation:
    """The result of one request: the translation and, when asked for and
    possible, the reconstruction (the translation translated back)."""

    output: np.ndarray
    reconstruction: Optional[np.ndarray] = None


class ServedModel:
    """Translators by direction (``'a2b'``, ``'b2a'``) plus metadata.

    ``translators`` maps a direction to a callable taking and returning an
    (H, W, 3) uint8/uint16 RGB array (a :class:`Translator`); ``metadata``
    is a JSON-serialisable dict shown on the page.
    """

    def __init__(self, translators: dict[str, Callable],
                 metadata: dict) -> None:
        unknown = set(translators) - set(DIRECTIONS)
        if not translators or unknown:
            raise ValueError(
                f'translators must map some of {DIRECTIONS} to callables, '
                f'got {sorted(translators)}')
        self._translators = dict(translators)
        self.directions = [d for d in DIRECTIONS if d in translators]
        self.metadata = dict(metadata)

    @classmethod
    def from_file(cls, weights: str, device: str = 'cpu') -> 'ServedModel':
        """Load every direction ``weights`` holds through the inference
        layer."""
        raise NotImplementedError  # filled in on top of issue 14

    def describe(self) -> str:
        """One line: architecture, iterations, source, directions."""
        meta = self.metadata
        parts = [str(meta[k]) for k in ('architecture', ) if meta.get(k)]
        if meta.get('iterations') is not None:
            parts.append(f'{meta["iterations"]} iterations')
        if meta.get('source'):
            parts.append(f'from {meta["source"]}')
        parts.append('directions ' + ', '.join(self.directions))
        return '; '.join(parts)

    def translate(self, pixels: np.ndarray, direction: str,
                  reconstruct: bool = False) -> Translation:
        """Translate decoded pixels ((H, W, C), C in 1..4, uint8/16).

        Gray input is repeated to RGB; an alpha channel is kept and put
        back on the translation (and reconstruction) unchanged.
        """
        if direction not in self._translators:
            raise ValueError(f'direction must be one of {self.directions},'
                             f' got {direction!r}')
        channels = pixels.shape[2]
        colour = pixels[..., :3] if channels >= 3 else np.repeat(
            pixels[..., :1], 3, axis=2)
        alpha = pixels[..., -1:] if channels in (2, 4) else None
        colour = np.ascontiguousarray(colour)
        output = self._translators[direction](colour)
        reconstruction = None
        back = _other(direction)
        if reconstruct and back in self._translators:
            reconstruction = self._translators[back](output)
        if alpha is not None:
            output = np.concatenate([output, alpha], axis=2)
            if reconstruction is not None:
                reconstruction = np.concatenate([reconstruction, alpha],
                                                axis=2)
        return Translation(output, reconstruction)
