"""Read any weights file a user may have into our networks' configs + tensors.

:func:`load_weights` recognises the kind of a file from its keys (see
:data:`KINDS`) and returns a :class:`LoadedWeights`: for each network it has
(``generator_a2b``, ``generator_b2a``, ``discriminator_a``,
``discriminator_b``) the config to build it and a state dict in our layout,
plus the domain names, the training iteration and where it came from.
Nothing here builds a Runner or needs a config file.

Foreign files are read tensors-only (:func:`_load_tensors`); nothing in a
checkpoint can run code.
"""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from torch import Tensor

from mm_cyclegan.apis import junyanz, mmagic_import
from mm_cyclegan.apis.architecture import (
    infer_discriminator_cfg,
    infer_generator_cfg,
    sub_state_dict,
)
from mm_cyclegan.engine.checkpoint import strip_module_prefix
from mm_cyclegan.models.cyclegan import NETWORKS, complete_network_cfgs

DIRECTIONS = {'a2b': 'generator_a2b', 'b2a': 'generator_b2a'}

#: The kinds of weights :func:`load_weights` understands, and how each is
#: recognised.
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

PUBLISHED_FORMAT = 'mm_cyclegan.published'
PUBLISHED_NAME = 'model'


class UnknownWeightsError(ValueError):
    """A file whose keys match none of :data:`KINDS`."""


def expected_kinds_text() -> str:
    """The list of supported kinds, for error messages and ``--help``."""
    return '\n'.join(f'  - {k}: {v}' for k, v in KINDS.items())


def check_state_dict_tensors(state: Mapping, source: str) -> None:
    """The engine's one rule: every state-dict entry is a tensor."""
    from mm_cyclegan.engine.checkpoint import check_state_dict_tensors
    check_state_dict_tensors(state, source)


def _load_tensors(path: str) -> Any:
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


# ------------------------------------------------------------------ helpers


def _plain(value: Any) -> Any:
    """ConfigDicts/tuples -> plain dicts/lists (JSON- and build-safe)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _inference_cfg(cfg: Mapping) -> dict:
    # Initialisation and gradient checkpointing do not matter for loading
    # trained weights; init_cfg may even name a file that is not here.
    cfg = dict(_plain(cfg))
    cfg.pop('init_cfg', None)
    cfg.pop('with_cp', None)
    return cfg


def _model_cfg(config_text: Optional[str],
               config_path: Optional[str]) -> Optional[dict]:
    from mmengine.config import Config
    if config_path:
        cfg = Config.fromfile(config_path)
    elif config_text:
        cfg = Config.fromstring(config_text, file_format='.py')
    else:
        return None
    model = cfg.get('model')
    return _plain(model) if model is not None else None


def network_cfgs(model_cfg: Mapping) -> dict:
    """The four network configs of a ``CycleGAN`` model config (two when
    it has no discriminator), completed as
    :class:`~mm_cyclegan.models.CycleGAN` completes them."""
    gen = model_cfg.get('generator_a2b')
    if gen is None:
        raise ValueError('the model config has no generator_a2b')
    cfgs = complete_network_cfgs(
        dict(gen), model_cfg.get('discriminator_b'),
        model_cfg.get('generator_b2a'), model_cfg.get('discriminator_a'))
    return {name: _inference_cfg(cfg) for name, cfg in cfgs.items()}


def _infer_cfg(name: str, state_dict: Mapping[str, Tensor]) -> dict:
    if name.startswith('generator'):
        return infer_generator_cfg(state_dict)
    return infer_discriminator_cfg(state_dict)


def _unknown(path: str, keys: Sequence[str], extra: str = '') -> None:
    raise UnknownWeightsError(
        f'{path}: cannot tell what kind of weights this is{extra} (first '
        f'keys: {list(keys)[:6]}). Expected one of:\n'
        + expected_kinds_text())


# ------------------------------------------------------------- the kinds


def _from_ours(path: str, ckpt: Mapping, config: Optional[str]
               ) -> LoadedWeights:
    state_dict = ckpt.get('state_dict', ckpt)
    meta: Mapping = ckpt['meta'] if isinstance(ckpt.get('meta'),
                                               Mapping) else {}
    config_text = meta.get('cfg') if isinstance(meta.get('cfg'), str) \
        else None
    try:
        model_cfg = _model_cfg(config_text, config)
    except Exception as err:
        if config:  # the user's own file: its error is the answer
            raise
        # A stored config that no longer parses (e.g. written by another
        # version): the networks' keys still tell their architecture.
        warnings.warn(f'{path}: cannot parse the config stored in the '
                      f'checkpoint ({type(err).__name__}: {err}); inferring '
                      'the networks from their weights')
        model_cfg = None
    cfgs = network_cfgs(model_cfg) if model_cfg else {}
    loaded = LoadedWeights(kind='mm_cyclegan', source=path,
                           config_text=config_text)
    for name in NETWORKS:
        sub = sub_state_dict(state_dict, f'{name}.')
        if not sub:
            continue
        cfg = cfgs.get(name) or _infer_cfg(name, sub)
        loaded.networks[name] = (cfg, sub)
    data_meta = meta.get('dataset_meta') or {}
    if data_meta.get('domain_a') and data_meta.get('domain_b'):
        loaded.domains = (str(data_meta['domain_a']),
                          str(data_meta['domain_b']))
    if isinstance(meta.get('iter'), int):
        loaded.iterations = meta['iter']
    return loaded


def _from_mmagic(path: str, ckpt: Mapping,
                 domains: Optional[Sequence[str]]) -> LoadedWeights:
    state_dict = ckpt.get('state_dict', ckpt)
    meta: Mapping = ckpt['meta'] if isinstance(ckpt.get('meta'),
                                               Mapping) else {}
    cfg_text = meta.get('cfg') if isinstance(meta.get('cfg'), str) else None
    parts = mmagic_import.convert(state_dict, cfg_text, domains)
    loaded = LoadedWeights(kind='mmagic', source=path,
                           domains=parts.pop('domains'))
    for name, sub in parts.items():
        loaded.networks[name] = (_infer_cfg(name, sub), sub)
    if isinstance(meta.get('iter'), int):
        loaded.iterations = meta['iter']
    return loaded


def _junyanz_generator(path: str, state_dict: Mapping) -> tuple:
    converted = junyanz.convert_generator(state_dict)
    return infer_generator_cfg(converted), converted


def _from_junyanz_file(path: str, state_dict: Mapping) -> LoadedWeights:
    stem = osp.splitext(osp.basename(path))[0]
    name = 'generator_b2a' if re.search(r'G_B$', stem) else 'generator_a2b'
    loaded = LoadedWeights(kind='junyanz', source=path)
    loaded.networks[name] = _junyanz_generator(path, state_dict)
    # Zoo files are named after their translation: horse2zebra.pth.
    m = re.fullmatch(r'([A-Za-z]+)2([A-Za-z]+)(_pretrained)?', stem)
    if m and name == 'generator_a2b':
        loaded.domains = (m.group(1), m.group(2))
    return loaded


def _junyanz_dir_files(folder: str) -> dict:
    """``{'G_A': path, ...}`` of the newest epoch in a junyanz folder."""
    files = {}
    for net in ('G_A', 'G_B', 'D_A', 'D_B'):
        latest = osp.join(folder, f'latest_net_{net}.pth')
        if osp.isfile(latest):
            files[net] = latest
            continue
        numbered = []
        for p in glob.glob(osp.join(folder, f'*_net_{net}.pth')):
            m = re.fullmatch(rf'(\d+)_net_{net}\.pth', osp.basename(p))
            if m:
                numbered.append((int(m.group(1)), p))
        if numbered:
            files[net] = max(numbered)[1]
    return files


def _from_junyanz_dir(folder: str, files: Mapping) -> LoadedWeights:
    loaded = LoadedWeights(kind='junyanz_dir', source=folder)
    # G_A maps A -> B; D_A judges domain-B images (reference cycle_gan_model).
    roles = {'G_A': 'generator_a2b', 'G_B': 'generator_b2a',
             'D_A': 'discriminator_b', 'D_B': 'discriminator_a'}
    for net, path in files.items():
        state_dict = _load_tensors(path)
        if not isinstance(state_dict, Mapping):
            _unknown(path, [])
        check_state_dict_tensors(state_dict, path)
        if net.startswith('G'):
            loaded.networks[roles[net]] = _junyanz_generator(path,
                                                             state_dict)
        else:
            converted = junyanz.convert_discriminator(state_dict)
            loaded.networks[roles[net]] = (
                infer_discriminator_cfg(converted), converted)
    return loaded


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


def _from_published(path: str, tensors_path: str,
                    json_path: str) -> LoadedWeights:
    from safetensors import safe_open
    from safetensors.torch import load_file
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


def _resolve_work_dir(path: str) -> str:
    """A work dir of tools/train.py: the file its ``last_checkpoint`` names
    (the engine's one pointer rule, :func:`read_checkpoint_pointer`: a
    file inside the work dir, else an error); other folders unchanged."""
    from mm_cyclegan.engine.checkpoint import (
        POINTER_NAME,
        CheckpointError,
        read_checkpoint_pointer,
    )
    target = read_checkpoint_pointer(path)
    if target is None:
        return path
    if not osp.isfile(target):
        raise CheckpointError(
            f'{osp.join(path, POINTER_NAME)} names {target}, which does not '
            'exist (or is not a file); give the checkpoint file itself')
    return target


def load_weights(path: str,
                 config: Optional[str] = None,
                 domains: Optional[Sequence[str]] = None) -> LoadedWeights:
    """Read a weights file of any supported kind (:data:`KINDS`).

    Args:
        path: The file (or folder: a junyanz training folder, a work dir of
            ours, a published folder).
        config: For our checkpoints, a config file that overrides the one
            stored in the checkpoint's ``meta['cfg']``.
        domains: For MMagic checkpoints, ``(domain_a, domain_b)`` names as
            in the file's ``generators.<name>`` keys, when the file's own
            config does not say which is which.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnknownWeightsError: the keys match no known kind (the message
            lists the expected kinds).
    """
    path = osp.expanduser(str(path))
    if not osp.exists(path):
        raise FileNotFoundError(f'weights file {path!r} does not exist')
    if osp.isdir(path):
        path = _resolve_work_dir(path)
    published = published_files(path)
    if published:
        return _from_published(path, *published)
    if osp.isdir(path):
        files = _junyanz_dir_files(path)
        if 'G_A' in files or 'G_B' in files:
            return _from_junyanz_dir(path, files)
        entries = sorted(os.listdir(path))[:6]
        raise UnknownWeightsError(
            f'{path} is a folder without a model in it (holds {entries}); '
            'expected one of:\n' + expected_kinds_text())
    if path.endswith('.safetensors') or path.endswith('.json'):
        raise UnknownWeightsError(
            f'{path}: no published model (the .safetensors file of '
            f'tools/publish.py) here; expected one of:\n'
            + expected_kinds_text())
    ckpt = _load_tensors(path)
    if not isinstance(ckpt, Mapping):
        raise UnknownWeightsError(
            f'{path} holds a {type(ckpt).__name__}, not a state dict; '
            'expected one of:\n' + expected_kinds_text())
    state_dict = ckpt.get('state_dict', ckpt)
    if not isinstance(state_dict, Mapping):
        _unknown(path, list(ckpt))
    check_state_dict_tensors(state_dict, path)
    keys = list(state_dict)
    if any(k.startswith('module.') for k in keys):
        # Saved from a DataParallel wrapper.
        state_dict = strip_module_prefix(state_dict)
        keys = list(state_dict)
    if any(k.startswith(('generator_a2b.', 'generator_b2a.')) for k in keys):
        return _from_ours(path, ckpt, config)
    if mmagic_import.is_mmagic(state_dict):
        return _from_mmagic(path, ckpt, domains)
    if junyanz.is_resnet(state_dict) or junyanz.is_unet(state_dict):
        return _from_junyanz_file(path, state_dict)
    if junyanz.is_discriminator(state_dict):
        _unknown(path, keys, ' (it looks like a junyanz discriminator; '
                 'translation needs a generator, latest_net_G_A.pth)')
    _unknown(path, keys)
    raise AssertionError('unreachable')  # _unknown always raises
