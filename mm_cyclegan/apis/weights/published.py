"""The published format: slim generator weights, read and written here.

:func:`publish` keeps only the generators of any weights
:func:`~mm_cyclegan.apis.weights.load.load_weights` reads:
``model.safetensors`` (float32 tensors ``generator_a2b.*``,
``generator_b2a.*``, with the metadata below in its header) and the same
metadata as ``model.json`` beside it: format, generator configs, domain
names and channels, normalisation, iterations, and the source file's name
and sha256. About 45 MB for ResNet-9 instead of ~300 MB (no
discriminators, optimiser state, image pools or RNG states).
:func:`read_published` reads it back.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any, Optional, Sequence

from mm_cyclegan.apis.weights.architecture import sub_state_dict
from mm_cyclegan.apis.weights.kinds import (
    DIRECTIONS,
    LoadedWeights,
    UnknownWeightsError,
    expected_kinds_text,
    source_files,
    validated_tensors,
)

PUBLISHED_FORMAT = 'mm_cyclegan.published'
PUBLISHED_NAME = 'model'
NORMALISATION = ('RGB (gray for 1-channel domains) scaled to [-1, 1]: '
                 'x / max * 2 - 1 with max = 255 (8 bit) or 65535 (16 bit)')


def published_files(path: str) -> Optional[tuple]:
    """``(safetensors, json)`` paths if ``path`` is a published model."""
    if osp.isdir(path):
        base = osp.join(path, PUBLISHED_NAME)
    elif path.endswith('.safetensors') or path.endswith('.json'):
        base = osp.splitext(path)[0]
    else:
        return None
    tensors, meta = base + '.safetensors', base + '.json'
    if osp.isfile(tensors):
        return tensors, meta
    return None


def _read_metadata(tensors_path: str, json_path: str) -> dict:
    from safetensors import safe_open
    with safe_open(tensors_path, framework='pt') as f:
        header = f.metadata() or {}
    text = header.get(PUBLISHED_FORMAT)
    if text is None and osp.isfile(json_path):
        with open(json_path, encoding='utf-8') as f:
            text = f.read()
    if text is None:
        raise UnknownWeightsError(
            f'{tensors_path}: a safetensors file without mm_cyclegan '
            f'metadata (and no {osp.basename(json_path)} beside it); '
            'expected one of:\n' + expected_kinds_text())
    meta = json.loads(text)
    if meta.get('format') != PUBLISHED_FORMAT:
        raise UnknownWeightsError(
            f'{tensors_path}: metadata format {meta.get("format")!r}, '
            f'expected {PUBLISHED_FORMAT!r}')
    return meta


def read_published(tensors_path: str, json_path: str) -> LoadedWeights:
    """A published model (:func:`published_files`) as
    :class:`LoadedWeights`."""
    from safetensors.torch import load_file
    meta = _read_metadata(tensors_path, json_path)
    state_dict = load_file(tensors_path, device='cpu')
    loaded = LoadedWeights(kind='published', source=tensors_path)
    for direction, cfg in meta['generators'].items():
        name = DIRECTIONS[direction]
        loaded.networks[name] = (cfg, sub_state_dict(state_dict,
                                                     f'{name}.'))
    domains = meta.get('domains') or {}
    loaded.domains = (domains.get('a', 'a'), domains.get('b', 'b'))
    loaded.iterations = meta.get('iterations')
    loaded.source_sha256 = (meta.get('source') or {}).get('sha256')
    return loaded


def _keep_directions(loaded: LoadedWeights, weights: str,
                     directions: Optional[Sequence[str]]) -> None:
    if directions is None:
        return
    missing = [d for d in directions if d not in loaded.directions]
    if missing:
        raise ValueError(f'{weights} has no generator for {missing}; '
                         f'available: {list(loaded.directions)}')
    for d in loaded.directions:
        if d not in directions:
            loaded.networks.pop(DIRECTIONS[d])


def _metadata(loaded: LoadedWeights) -> dict:
    files = source_files(loaded)
    channels: dict[str, Any] = {}
    for d in loaded.directions:
        cfg = loaded.generator(d)[0]
        channels.setdefault(d[0], int(cfg['in_channels']))
        channels.setdefault(d[-1], int(cfg['out_channels']))
    return {
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


def _write(tensors: dict, meta: dict, tensors_path: str,
           json_path: str) -> None:
    from safetensors.torch import save
    text = json.dumps(meta, indent=2, sort_keys=True)
    os.makedirs(osp.dirname(tensors_path), exist_ok=True)
    # safetensors' save_file creates its file 0600; written through open()
    # the file gets the usual mode (0666 minus the umask), like model.json.
    with open(tensors_path + '.tmp', 'wb') as f:
        f.write(save(tensors, metadata={PUBLISHED_FORMAT: text}))
    os.replace(tensors_path + '.tmp', tensors_path)
    with open(json_path, 'w', encoding='utf-8') as f:
        f.write(text + '\n')


def publish(weights: str, out_dir: str, config: Optional[str] = None,
            overwrite: bool = False,
            directions: Optional[Sequence[str]] = None) -> tuple[str, str]:
    """Write the generators of ``weights`` to ``out_dir``; return paths.

    Returns ``(model.safetensors, model.json)``. ``weights`` may be any
    kind :func:`~mm_cyclegan.apis.weights.load.load_weights` reads;
    ``directions`` (e.g. ``['a2b']``) keeps only those generators.
    """
    # Imported here: the dispatcher imports this module's reader.
    from mm_cyclegan.apis.weights.load import load_weights
    loaded = load_weights(weights, config=config)
    _keep_directions(loaded, weights, directions)
    tensors_path = osp.join(out_dir, PUBLISHED_NAME + '.safetensors')
    json_path = osp.join(out_dir, PUBLISHED_NAME + '.json')
    for path in (tensors_path, json_path):
        if osp.exists(path) and not overwrite:
            raise FileExistsError(f'{path} exists; pass overwrite=True '
                                  '(--overwrite) to replace it')
    generators = [DIRECTIONS[d] for d in loaded.directions]
    if not generators:
        raise ValueError(f'{weights} holds no generator to publish')
    tensors = validated_tensors(loaded, generators)
    _write(tensors, _metadata(loaded), tensors_path, json_path)
    return tensors_path, json_path
