"""Translate images with trained weights: the :class:`Translator`.

Contract (stable; ``tools/translate.py`` and other code build on it)::

    from mm_cyclegan.apis import Translator
    translator = Translator.from_file('work_dirs/cyclegan_demo/iter_2000.pth',
                                      direction='a2b', device='cpu')
    out = translator(image)

* ``from_file(weights, direction='a2b', device='cpu', precision='auto',
  config=None, domains=None)`` reads any kind of weights that
  :func:`~mm_cyclegan.apis.weights.load.load_weights` knows (our training
  checkpoints with their config inside, published ``model.safetensors``,
  junyanz generators and training folders, MMagic CycleGAN checkpoints).
  No config file and no MMEngine Runner are needed. Every generator in the
  file is loaded (strictly: a key that does not fit is an error).
* ``translator(image, direction=None, max_side=None)`` accepts

  - a **path** (str / ``os.PathLike``): read with the dataset's reader (EXIF
    orientation, 8/16 bit, alpha); returns a uint8/uint16 (H, W, C) RGB(A)
    numpy array;
  - a **PIL image**: returns a PIL image (EXIF orientation applied);
  - a **numpy array** (H, W) or (H, W, C), uint8 or uint16, RGB order, C in
    1..4: returns an array of the same dtype and height/width;
  - a **torch tensor** (N, C, H, W) (or (C, H, W)) in [-1, 1]: returns a
    tensor of the same shape layout, dtype and device.

  Any H x W works: the image is reflect-padded to the generator's multiple
  and cropped back. Alpha is kept (the colour is translated, the input's
  alpha re-attached); gray and RGB inputs are converted to the domain's
  channel count as in training. ``max_side`` first downscales images whose
  longer side exceeds it (arrays, PIL images, paths). ``direction`` is
  ``'a2b'``, ``'b2a'`` or ``'<domain>2<domain>'`` (e.g. ``'photo2anime'``).
* ``translate_batch(arrays, batch_size=...)`` translates a list of arrays,
  running same-size images together.
* Metadata: :attr:`info` (a :class:`ModelInfo`: ``kind``, ``source``,
  ``architecture``, ``iterations``, ``directions``, ``domains``,
  ``channels``, ``source_sha256``), and :attr:`direction`,
  :attr:`directions`, :attr:`precision`, :attr:`device`.

Inference runs under ``torch.inference_mode`` with the networks in eval
mode; ``precision='auto'`` uses bf16 autocast only where the device
computes bf16 natively (fp16 on a CUDA GPU without bf16; see
:mod:`mm_cyclegan.engine.precision`, the one vocabulary training shares).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from mm_cyclegan.apis.inference.image_arrays import (
    array_to_pil,
    check_pixels,
    from_network,
    merge_alpha,
    pad_tensor,
    pil_to_array,
    resize_max_side,
    split_alpha,
    to_network,
)
from mm_cyclegan.apis.inference.precision import autocast, resolve_precision
from mm_cyclegan.apis.weights.architecture import (
    build_network,
    describe,
    min_size,
    size_multiple,
)
from mm_cyclegan.apis.weights.kinds import DIRECTIONS, LoadedWeights
from mm_cyclegan.apis.weights.load import load_weights
from mm_cyclegan.datasets.image_io import decode_image
from mm_cyclegan.datasets.padding import pad_array, padding_for
from mm_cyclegan.utils.validation import check_choice, check_int

__all__ = ['Translator', 'ModelInfo', 'init_translator']

ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, Tensor]


@dataclass(frozen=True)
class ModelInfo:
    """What a :class:`Translator` runs (for display and provenance).

    Attributes:
        kind: Kind of the weights file (``'mm_cyclegan'``, ``'published'``,
            ``'junyanz'``, ``'junyanz_dir'``, ``'mmagic'``).
        source: Path of the file (or folder) the weights came from.
        architecture: ``{direction: generator config dict}``.
        directions: Available directions, e.g. ``('a2b', 'b2a')``.
        domains: ``(name_a, name_b)``, e.g. ``('photo', 'anime')``;
            ``('a', 'b')`` when the file does not name them.
        channels: ``{'a': C_a, 'b': C_b}`` image channels of the domains.
        iterations: Training iterations, when the file records them.
        source_sha256: sha256 of the training checkpoint a published file
            was made from (``None`` otherwise).
    """

    kind: str
    source: str
    architecture: dict = field(default_factory=dict)
    directions: tuple = ()
    domains: tuple = ('a', 'b')
    channels: dict = field(default_factory=dict)
    iterations: Optional[int] = None
    source_sha256: Optional[str] = None

    def describe(self, direction: str) -> str:
        """One line naming the generator of ``direction``."""
        return describe(self.architecture[direction])


def _resolve_device(device: Union[str, torch.device]) -> torch.device:
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got "
                         f'{device!r}') from None
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {str(device)!r} requested, but CUDA is not '
                         "available here; use device='cpu'")
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got "
                         f'{str(device)!r}')
    return device


class Translator:
    """Runs trained CycleGAN generators on images of any size and kind.

    Build it with :meth:`from_file`; see the module docstring for the
    contract of :meth:`__call__`.

    Args:
        generators: ``{direction: generator}`` (networks with weights).
        info: Metadata of the weights.
        direction: Default direction of :meth:`__call__`.
        device: ``'cpu'`` or ``'cuda[:N]'``.
        precision: ``'auto'``, ``'fp32'``, ``'bf16'`` or ``'fp16'`` (or
            ``'float32'``, ``'bfloat16'``, ``'float16'``).
    """

    def __init__(self,
                 generators: dict,
                 info: ModelInfo,
                 direction: str = 'a2b',
                 device: Union[str, torch.device] = 'cpu',
                 precision: str = 'auto') -> None:
        self.device = _resolve_device(device)
        self.precision, self.precision_message = resolve_precision(
            precision, self.device.type)
        self.info = info
        self._generators = {}
        for name, generator in generators.items():
            self._generators[name] = generator.to(self.device).eval()
        self.direction = self.resolve_direction(
            direction if direction is not None else info.directions[0])

    # ---------------------------------------------------------- building
    @classmethod
    def from_file(cls,
                  weights: Union[str, os.PathLike],
                  direction: str = 'a2b',
                  device: Union[str, torch.device] = 'cpu',
                  precision: str = 'auto',
                  config: Optional[str] = None,
                  domains: Optional[Sequence[str]] = None) -> 'Translator':
        """Load every generator of a weights file (any supported kind).

        Args:
            weights: Path of the file or folder (see
                :data:`mm_cyclegan.apis.weights.KINDS`).
            direction: Default direction: ``'a2b'``, ``'b2a'`` or
                ``'<name_a>2<name_b>'``.
            device: ``'cpu'`` or ``'cuda[:N]'``.
            precision: ``'auto'`` (bf16 where native, fp16 on a GPU
                without bf16, else fp32), ``'fp32'``, ``'bf16'`` or
                ``'fp16'`` (long spellings ``'bfloat16'`` ... too).
            config: Config file overriding the one stored in one of our
                training checkpoints.
            domains: ``(A, B)`` domain names of an MMagic checkpoint whose
                own config does not say which is which.
        """
        loaded = load_weights(os.fspath(weights), config=config,
                              domains=domains)
        return cls.from_loaded(loaded, direction, device, precision)

    @classmethod
    def from_loaded(cls, loaded: LoadedWeights, direction: str = 'a2b',
                    device: Union[str, torch.device] = 'cpu',
                    precision: str = 'auto') -> 'Translator':
        """Build from the output of
        :func:`~mm_cyclegan.apis.weights.load.load_weights`."""
        if not loaded.directions:
            raise ValueError(f'{loaded.source} holds no generator')
        generators: dict[str, Any] = {}
        architecture: dict[str, Any] = {}
        channels: dict[str, Any] = {}
        for d in loaded.directions:
            cfg, state_dict = loaded.generator(d)
            generators[d] = build_network(cfg, state_dict, loaded.source,
                                          DIRECTIONS[d])
            architecture[d] = dict(cfg)
            src, dst = d[0], d[-1]
            channels.setdefault(src, int(cfg['in_channels']))
            channels.setdefault(dst, int(cfg['out_channels']))
        info = ModelInfo(
            kind=loaded.kind, source=loaded.source,
            architecture=architecture, directions=loaded.directions,
            domains=tuple(loaded.domains), channels=channels,
            iterations=loaded.iterations,
            source_sha256=loaded.source_sha256)
        return cls(generators, info, direction, device, precision)

    # ---------------------------------------------------------- metadata
    @property
    def directions(self) -> tuple:
        """Directions this translator can run."""
        return self.info.directions

    def resolve_direction(self, direction: Optional[str]) -> str:
        """``'a2b'``/``'b2a'`` for a direction or a ``'<a>2<b>'`` name."""
        if direction is None:
            return self.direction
        name_a, name_b = self.info.domains
        named = {f'{name_a}2{name_b}': 'a2b', f'{name_b}2{name_a}': 'b2a'}
        check_choice('direction', direction, [*DIRECTIONS, *named])
        resolved = named.get(direction, direction)
        if resolved not in self._generators:
            raise ValueError(
                f'{self.info.source} has no generator for {direction!r}; '
                f'available: {list(self.directions)}')
        return resolved

    def generator(self, direction: Optional[str] = None) -> nn.Module:
        """The generator network of ``direction`` (eval mode)."""
        return self._generators[self.resolve_direction(direction)]

    def multiple(self, direction: Optional[str] = None) -> int:
        """What the generator needs H and W to be divisible by."""
        return size_multiple(self.generator(direction))

    def in_channels(self, direction: Optional[str] = None) -> int:
        """Image channels the generator of ``direction`` reads."""
        return self.info.channels[self.resolve_direction(direction)[0]]

    def out_channels(self, direction: Optional[str] = None) -> int:
        """Image channels the generator of ``direction`` writes."""
        return self.info.channels[self.resolve_direction(direction)[-1]]

    # ---------------------------------------------------------- running
    def translate_tensor(self, batch: Tensor,
                         direction: Optional[str] = None) -> Tensor:
        """Translate ``(N, C, H, W)`` in [-1, 1]; any H, W; same dtype."""
        if not isinstance(batch, Tensor):
            raise TypeError(f'expected a tensor, got {type(batch).__name__}')
        squeeze = batch.dim() == 3
        if squeeze:
            batch = batch.unsqueeze(0)
        direction = self.resolve_direction(direction)
        channels = self.in_channels(direction)
        if batch.dim() != 4 or batch.shape[1] != channels:
            raise ValueError(
                f'expected an (N, {channels}, H, W) tensor for {direction}, '
                f'got shape {tuple(batch.shape)}')
        if not batch.is_floating_point():
            raise TypeError('tensors must be float in [-1, 1], got dtype '
                            f'{batch.dtype}; pass integer images as numpy')
        generator = self._generators[direction]
        x = batch.to(self.device, torch.float32)
        x, (top, bottom, left, right) = pad_tensor(
            x, self.multiple(direction), min_size(generator))
        with torch.inference_mode(), autocast(self.precision,
                                              self.device.type):
            y = generator(x)
        height, width = y.shape[-2:]
        y = y[..., top:height - bottom, left:width - right].float()
        y = y.to(batch.device, batch.dtype)
        return y[0] if squeeze else y

    def _prepare(self, pixels: np.ndarray, direction: str,
                 max_side: Optional[int]) -> tuple:
        pixels = resize_max_side(check_pixels(pixels), max_side)
        pixels, alpha = split_alpha(pixels)
        values = to_network(pixels, self.in_channels(direction))
        padding = padding_for(values.shape[0], values.shape[1],
                              self.multiple(direction),
                              min_size(self._generators[direction]))
        return pad_array(values, padding), padding, alpha, pixels.dtype

    @staticmethod
    def _finish(output: np.ndarray, padding: tuple, alpha, dtype,
                flat: bool) -> np.ndarray:
        top, bottom, left, right = padding
        height, width = output.shape[:2]
        output = output[top:height - bottom, left:width - right]
        pixels = merge_alpha(from_network(output, dtype), alpha)
        if flat and pixels.shape[2] == 1:
            return pixels[:, :, 0]
        return pixels

    def translate_batch(self, images: Iterable[np.ndarray],
                        direction: Optional[str] = None,
                        batch_size: int = 1,
                        max_side: Optional[int] = None) -> list:
        """Translate uint8/uint16 arrays; same-size images run together.

        Returns one array per input, in order (see :meth:`__call__`).
        """
        batch_size = check_int('batch_size', batch_size, minimum=1)
        direction = self.resolve_direction(direction)
        prepared = []
        for image in images:
            flat = isinstance(image, np.ndarray) and image.ndim == 2
            prepared.append(self._prepare(image, direction, max_side) +
                            (flat,))
        results: list = [None] * len(prepared)
        groups: dict = {}
        for index, item in enumerate(prepared):
            groups.setdefault(item[0].shape, []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                batch = torch.from_numpy(np.stack(
                    [prepared[i][0] for i in chunk])).permute(0, 3, 1, 2)
                out = self.translate_tensor(batch, direction)
                out = out.permute(0, 2, 3, 1).numpy()
                for row, i in enumerate(chunk):
                    _, padding, alpha, dtype, flat = prepared[i]
                    results[i] = self._finish(out[row], padding, alpha,
                                              dtype, flat)
        return results

    def translate_array(self, pixels: np.ndarray,
                        direction: Optional[str] = None,
                        max_side: Optional[int] = None) -> np.ndarray:
        """Translate one uint8/uint16 (H, W[, C]) RGB(A) array."""
        return self.translate_batch([pixels], direction,
                                    max_side=max_side)[0]

    def __call__(self, image: ImageLike, direction: Optional[str] = None,
                 max_side: Optional[int] = None) -> Any:
        """Translate a path, PIL image, numpy array or tensor (see module)."""
        if isinstance(image, Tensor):
            if max_side is not None:
                raise ValueError('max_side applies to images, not tensors; '
                                 'resize the tensor yourself')
            return self.translate_tensor(image, direction)
        if isinstance(image, Image.Image):
            return array_to_pil(self.translate_array(
                pil_to_array(image), direction, max_side))
        if isinstance(image, np.ndarray):
            return self.translate_array(image, direction, max_side)
        if isinstance(image, (str, os.PathLike)):
            pixels, _ = decode_image(os.fspath(image))
            return self.translate_array(pixels, direction, max_side)
        raise TypeError(
            'expected a path, a PIL image, a uint8/uint16 numpy array or an '
            f'(N, C, H, W) tensor, got {type(image).__name__}')

    def __repr__(self) -> str:
        return (f'Translator({self.info.source!r}, kind={self.info.kind!r}, '
                f'direction={self.direction!r}, directions='
                f'{list(self.directions)}, device={str(self.device)!r}, '
                f'precision={self.precision!r})')


def init_translator(weights: Union[str, os.PathLike],
                    direction: str = 'a2b',
                    device: Union[str, torch.device] = 'cpu',
                    **kwargs: Any) -> Translator:
    """Same as :meth:`Translator.from_file` (OpenMMLab-style name)."""
    return Translator.from_file(weights, direction, device, **kwargs)
