"""What every weights format shares: the kinds, the loaded result, errors.

:class:`LoadedWeights` is what each format's reader returns: for each
network it has (``generator_a2b``, ``generator_b2a``, ``discriminator_a``,
``discriminator_b``) the config to build it and a state dict in our layout,
plus the domain names, the training iteration and where it came from.
Foreign files are read tensors-only (:func:`load_tensors`); nothing in a
checkpoint can run code.
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Mapping, NoReturn, Optional, Sequence

from mm_cyclegan.apis.weights.architecture import build_network

DIRECTIONS = {'a2b': 'generator_a2b', 'b2a': 'generator_b2a'}

#: The kinds of weights :func:`~mm_cyclegan.apis.weights.load.load_weights`
#: understands, and how each is recognised.
KINDS = {
    'mm_cyclegan': 'a checkpoint of ours: iter_N.pth from tools/train.py, '
    'its work dir (last_checkpoint), or tools/convert_checkpoint.py output '
    '(state_dict keys generator_a2b.*, generator_b2a.*, ...)',
    'published': 'a slim file from tools/publish.py (model.safetensors with '
    'model.json, or their folder)',
    'junyanz': 'a generator of junyanz/pytorch-CycleGAN-and-pix2pix '
    '(latest_net_G_A.pth, zoo horse2zebra.pth): keys model.1.weight, '
    'model.10.conv_block.1.weight, ... (ResNet) or model.model.0.weight '
    '(U-Net)',
    'junyanz_dir': 'a junyanz training folder with latest_net_G_A.pth, '
    'latest_net_G_B.pth (and latest_net_D_A.pth, latest_net_D_B.pth)',
    'mmagic': 'an MMagic CycleGAN checkpoint: state_dict keys '
    'generators.<domain>.*, discriminators.<domain>.*',
}


class UnknownWeightsError(ValueError):
    """A file whose keys match none of :data:`KINDS`."""


def expected_kinds_text() -> str:
    """The list of supported kinds, for error messages and ``--help``."""
    return '\n'.join(f'  - {k}: {v}' for k, v in KINDS.items())


def unknown(path: str, keys: Sequence[str], extra: str = '') -> NoReturn:
    """Raise :class:`UnknownWeightsError` listing the first keys and the
    expected kinds."""
    raise UnknownWeightsError(
        f'{path}: cannot tell what kind of weights this is{extra} (first '
        f'keys: {list(keys)[:6]}). Expected one of:\n'
        + expected_kinds_text())


def check_state_dict_tensors(state: Mapping, source: str) -> None:
    """The engine's one rule: every state-dict entry is a tensor."""
    from mm_cyclegan.engine.checkpoint import check_state_dict_tensors
    check_state_dict_tensors(state, source)


def load_tensors(path: str) -> Any:
    """Load a ``.pth`` file tensors-only (the one place that reads them).

    Uses the engine's loading policy: ``weights_only=True``, else an
    unpickler that builds only tensors and containers (other objects become
    inert placeholders); damaged files are a clear error.
    """
    from mm_cyclegan.engine.checkpoint import read_checkpoint
    return read_checkpoint(path, map_location='cpu', purpose='weights')


@dataclass
class LoadedWeights:
    """Networks read from a weights file, in our layout (RGB, [-1, 1]).

    ``networks`` maps a network name (``generator_a2b``, ...) to ``(cfg,
    state_dict)``; only the networks the file has are present.
    """

    kind: str
    source: str
    networks: dict = field(default_factory=dict)
    domains: tuple = ('a', 'b')
    iterations: Optional[int] = None
    source_sha256: Optional[str] = None
    config_text: Optional[str] = None

    @property
    def directions(self) -> tuple:
        """The translation directions available (``'a2b'``, ``'b2a'``)."""
        return tuple(d for d, name in DIRECTIONS.items()
                     if name in self.networks)

    def generator(self, direction: str) -> tuple:
        """``(cfg, state_dict)`` of the generator of ``direction``."""
        name = DIRECTIONS.get(direction)
        if name is None or name not in self.networks:
            raise ValueError(
                f'{self.source} has no generator for direction '
                f'{direction!r}; available: {list(self.directions)}')
        return self.networks[name]


def validated_tensors(loaded: LoadedWeights, names: Sequence[str]) -> dict:
    """``{'<network>.<key>': tensor}`` of ``names``, each network built
    strictly first (a bad file fails here, not when it is used)."""
    tensors = {}
    for name in names:
        cfg, state_dict = loaded.networks[name]
        build_network(cfg, state_dict, loaded.source, name)
        for key, value in state_dict.items():
            tensors[f'{name}.{key}'] = value.detach().cpu().contiguous()
    return tensors


def sha256_of(path: str) -> str:
    """Hex sha256 of a file (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def source_files(loaded: LoadedWeights) -> dict:
    """``{file name: sha256}`` of the file(s) ``loaded`` was read from."""
    if osp.isfile(loaded.source):
        return {osp.basename(loaded.source): sha256_of(loaded.source)}
    # A junyanz training folder: every generator file in it.
    return {name: sha256_of(osp.join(loaded.source, name))
            for name in sorted(os.listdir(loaded.source))
            if '_net_G_' in name and name.endswith('.pth')}
