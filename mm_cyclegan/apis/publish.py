"""Slim weights out (publish), our checkpoint layout in (convert).

* :func:`publish` keeps only the generators of a checkpoint:
  ``model.safetensors`` (float32 tensors ``generator_a2b.*``,
  ``generator_b2a.*``, with the metadata below in its header) and the same
  metadata as ``model.json`` beside it: format, generator configs, domain
  names and channels, normalisation, iterations, and the source file's
  name and sha256. About 45 MB for ResNet-9 instead of ~300 MB (no
  discriminators, optimiser state, image pools or RNG states).
* :func:`convert_checkpoint` writes weights of another implementation as a
  checkpoint of ours (``{'meta': {'cfg': ..., 'dataset_meta': ...},
  'state_dict': {...}}``): the tools load it like a training checkpoint,
  and ``tools/train.py --load-from`` fine-tunes from it.
"""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
from typing import Any, Optional, Sequence

import torch

from mm_cyclegan.apis.architecture import build_network
from mm_cyclegan.apis.weights import (
    DIRECTIONS,
    NETWORKS,
    PUBLISHED_FORMAT,
    PUBLISHED_NAME,
    LoadedWeights,
    load_weights,
)
from mm_cyclegan.models.cyclegan import (
    identity_loss_possible,
    mirror_generator_cfg,
)

NORMALISATION = ('RGB (gray for 1-channel domains) scaled to [-1, 1]: '
                 'x / max * 2 - 1 with max = 255 (8 bit) or 65535 (16 bit)')
CONVERT_SOURCES = ('junyanz', 'mmagic')


def sha256_of(path: str) -> str:
    """Hex sha256 of a file (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _source_files(loaded: LoadedWeights) -> dict:
    if osp.isfile(loaded.source):
        return {osp.basename(loaded.source): sha256_of(loaded.source)}
    # A junyanz training folder: every generator file in it.
    return {name: sha256_of(osp.join(loaded.source, name))
            for name in sorted(os.listdir(loaded.source))
            if '_net_G_' in name and name.endswith('.pth')}


def _validated(loaded: LoadedWeights, names: Sequence[str]) -> dict:
    """Build each network strictly (a bad file fails here, not later)."""
    tensors = {}
    for name in names:
        cfg, state_dict = loaded.networks[name]
        build_network(cfg, state_dict, loaded.source, name)
        for key, value in state_dict.items():
            tensors[f'{name}.{key}'] = value.detach().cpu().contiguous()
    return tensors


def publish(weights: str, out_dir: str, config: Optional[str] = None,
            overwrite: bool = False,
            directions: Optional[Sequence[str]] = None) -> tuple[str, str]:
    """Write the generators of ``weights`` to ``out_dir``; return paths.

    Returns ``(model.safetensors, model.json)``. ``weights`` may be any
    kind :func:`~mm_cyclegan.apis.weights.load_weights` reads;
    ``directions`` (e.g. ``['a2b']``) keeps only those generators.
    """
    from safetensors.torch import save
    loaded = load_weights(weights, config=config)
    if directions is not None:
        unknown = [d for d in directions if d not in loaded.directions]
        if unknown:
            raise ValueError(f'{weights} has no generator for {unknown}; '
                             f'available: {list(loaded.directions)}')
        for d in loaded.directions:
            if d not in directions:
                loaded.networks.pop(DIRECTIONS[d])
    tensors_path = osp.join(out_dir, PUBLISHED_NAME + '.safetensors')
    json_path = osp.join(out_dir, PUBLISHED_NAME + '.json')
    for path in (tensors_path, json_path):
        if osp.exists(path) and not overwrite:
            raise FileExistsError(f'{path} exists; pass overwrite=True '
                                  '(--overwrite) to replace it')
    generators = [DIRECTIONS[d] for d in loaded.directions]
    if not generators:
        raise ValueError(f'{weights} holds no generator to publish')
    tensors = _validated(loaded, generators)
    files = _source_files(loaded)
    channels: dict[str, Any] = {}
    for d in loaded.directions:
        cfg = loaded.generator(d)[0]
        channels.setdefault(d[0], int(cfg['in_channels']))
        channels.setdefault(d[-1], int(cfg['out_channels']))
    meta = {
        'format': PUBLISHED_FORMAT,
        'version': 1,
        'generators': {d: loaded.generator(d)[0]
                       for d in loaded.directions},
        'domains': {'a': loaded.domains[0], 'b': loaded.domains[1]},
        'channels': channels,
        'normalisation': NORMALISATION,
        'iterations': loaded.iterations,
        'source': {
            'kind': loaded.kind,
            'file': osp.basename(osp.normpath(loaded.source)),
            'sha256': files.get(osp.basename(loaded.source)),
            'files': files,
        },
    }
    text = json.dumps(meta, indent=2, sort_keys=True)
    os.makedirs(out_dir, exist_ok=True)
    # safetensors' save_file creates its file 0600; written through open()
    # the file gets the usual mode (0666 minus the umask), like model.json.
    with open(tensors_path + '.tmp', 'wb') as f:
        f.write(save(tensors, metadata={PUBLISHED_FORMAT: text}))
    os.replace(tensors_path + '.tmp', tensors_path)
    with open(json_path, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    return tensors_path, json_path


def _model_config_text(loaded: LoadedWeights) -> str:
    from mmengine.config import Config
    model: dict = {'type': 'CycleGAN'}
    a2b = loaded.networks.get('generator_a2b')
    b2a = loaded.networks.get('generator_b2a')
    gen = (a2b or b2a)[0]  # type: ignore[index]
    if a2b is None:  # only b2a: describe a2b as its mirror
        gen = mirror_generator_cfg(gen)
    model['generator_a2b'] = gen
    if b2a is not None:
        model['generator_b2a'] = b2a[0]
    channels_b = gen['out_channels']
    if 'discriminator_b' in loaded.networks:
        model['discriminator_b'] = loaded.networks['discriminator_b'][0]
    else:  # the paper's 70x70 PatchGAN, initialised when fine-tuning
        model['discriminator_b'] = dict(type='PatchDiscriminator',
                                        in_channels=channels_b)
    if 'discriminator_a' in loaded.networks:
        model['discriminator_a'] = loaded.networks['discriminator_a'][0]
    if not identity_loss_possible(gen):
        model['identity_weight'] = 0.0
    return Config(dict(model=model)).pretty_text


def convert_checkpoint(src: str, out: str, source: Optional[str] = None,
                       domains: Optional[Sequence[str]] = None,
                       overwrite: bool = False) -> LoadedWeights:
    """Convert junyanz / MMagic weights into a checkpoint of ours.

    Args:
        src: A junyanz generator file or training folder, or an MMagic
            CycleGAN checkpoint.
        out: The ``.pth`` file to write.
        source: ``'junyanz'`` or ``'mmagic'``: what ``src`` must be (its
            kind is detected from its keys either way; a mismatch is an
            error). ``None`` accepts both.
        domains: ``(A, B)`` domain names of an MMagic checkpoint.
        overwrite: Replace ``out`` if it exists.

    Returns the converted weights (validated by loading every network).
    """
    if source is not None and source not in CONVERT_SOURCES:
        raise ValueError(f'source must be one of {CONVERT_SOURCES}, got '
                         f'{source!r}')
    if osp.exists(out) and not overwrite:
        raise FileExistsError(f'{out} exists; pass overwrite=True '
                              '(--overwrite) to replace it')
    loaded = load_weights(src, domains=domains)
    family = 'junyanz' if loaded.kind.startswith('junyanz') else loaded.kind
    if family not in CONVERT_SOURCES or (source and family != source):
        raise ValueError(
            f'{src} is a {loaded.kind!r} file, expected '
            f'{source or " or ".join(CONVERT_SOURCES)!r} weights')
    names = [n for n in NETWORKS if n in loaded.networks]
    tensors = _validated(loaded, names)
    checkpoint = {
        'meta': {
            'cfg': _model_config_text(loaded),
            'dataset_meta': {'domain_a': loaded.domains[0],
                             'domain_b': loaded.domains[1]},
            'converted_from': {
                'kind': loaded.kind,
                'file': osp.basename(osp.normpath(src)),
                'files': _source_files(loaded),
            },
        },
        'state_dict': tensors,
    }
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(checkpoint, out + '.tmp')
    os.replace(out + '.tmp', out)
    return loaded
