"""Our checkpoint layout: read (``iter_N.pth``) and write (conversion).

* :func:`read_ours` reads a checkpoint of ``tools/train.py`` (or of
  :func:`convert_checkpoint`): ``{'meta': {'cfg': ..., 'dataset_meta':
  ..., 'iter': ...}, 'state_dict': {'generator_a2b.*': ...}}``. The
  networks' configs come from the config stored in ``meta['cfg']`` (or a
  config file given instead), else from their keys.
* :func:`convert_checkpoint` writes weights of another implementation
  (junyanz, MMagic) in that layout: the tools load it like a training
  checkpoint, and ``tools/train.py --load-from`` fine-tunes from it.
"""
from __future__ import annotations

import os
import os.path as osp
import warnings
from typing import Any, Mapping, Optional, Sequence

import torch

from mm_cyclegan.apis.weights.architecture import (
    infer_network_cfg,
    sub_state_dict,
)
from mm_cyclegan.apis.weights.kinds import (
    LoadedWeights,
    source_files,
    validated_tensors,
)
from mm_cyclegan.models.network_cfgs import (
    NETWORKS,
    complete_network_cfgs,
    identity_loss_possible,
    mirror_generator_cfg,
)
from mm_cyclegan.utils.validation import check_choice

CONVERT_SOURCES = ('junyanz', 'mmagic')


def is_ours(state_dict: Mapping) -> bool:
    """Whether the keys are a checkpoint of ours (``generator_a2b.*``)."""
    return any(k.startswith(('generator_a2b.', 'generator_b2a.'))
               for k in state_dict)


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


def _stored_model_cfg(path: str, config_text: Optional[str],
                      config: Optional[str]) -> Optional[dict]:
    try:
        return _model_cfg(config_text, config)
    except Exception as err:
        if config:  # the user's own file: its error is the answer
            raise
        # A stored config that no longer parses (e.g. written by another
        # version): the networks' keys still tell their architecture.
        warnings.warn(f'{path}: cannot parse the config stored in the '
                      f'checkpoint ({type(err).__name__}: {err}); inferring '
                      'the networks from their weights')
        return None


def read_ours(path: str, ckpt: Mapping, state_dict: Mapping,
              config: Optional[str]) -> LoadedWeights:
    """A checkpoint of ours (``ckpt``, its ``state_dict`` already
    unwrapped) as :class:`LoadedWeights`."""
    meta: Mapping = ckpt['meta'] if isinstance(ckpt.get('meta'),
                                               Mapping) else {}
    config_text = meta.get('cfg') if isinstance(meta.get('cfg'), str) \
        else None
    model_cfg = _stored_model_cfg(path, config_text, config)
    cfgs = network_cfgs(model_cfg) if model_cfg else {}
    loaded = LoadedWeights(kind='mm_cyclegan', source=path,
                           config_text=config_text)
    for name in NETWORKS:
        sub = sub_state_dict(state_dict, f'{name}.')
        if sub:
            loaded.networks[name] = (cfgs.get(name)
                                     or infer_network_cfg(name, sub), sub)
    data_meta = meta.get('dataset_meta') or {}
    if data_meta.get('domain_a') and data_meta.get('domain_b'):
        loaded.domains = (str(data_meta['domain_a']),
                          str(data_meta['domain_b']))
    if isinstance(meta.get('iter'), int):
        loaded.iterations = meta['iter']
    return loaded


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


def _load_convertible(src: str, source: Optional[str],
                      domains: Optional[Sequence[str]]) -> LoadedWeights:
    # Imported here: the dispatcher imports this module's reader.
    from mm_cyclegan.apis.weights.load import load_weights
    loaded = load_weights(src, domains=domains)
    family = 'junyanz' if loaded.kind.startswith('junyanz') else loaded.kind
    if family not in CONVERT_SOURCES or (source and family != source):
        raise ValueError(
            f'{src} is a {loaded.kind!r} file, expected '
            f'{source or " or ".join(CONVERT_SOURCES)!r} weights')
    return loaded


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
    if source is not None:
        check_choice('source', source, CONVERT_SOURCES)
    if osp.exists(out) and not overwrite:
        raise FileExistsError(f'{out} exists; pass overwrite=True '
                              '(--overwrite) to replace it')
    loaded = _load_convertible(src, source, domains)
    names = [n for n in NETWORKS if n in loaded.networks]
    checkpoint = {
        'meta': {
            'cfg': _model_config_text(loaded),
            'dataset_meta': {'domain_a': loaded.domains[0],
                             'domain_b': loaded.domains[1]},
            'converted_from': {
                'kind': loaded.kind,
                'file': osp.basename(osp.normpath(src)),
                'files': source_files(loaded),
            },
        },
        'state_dict': validated_tensors(loaded, names),
    }
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(checkpoint, out + '.tmp')
    os.replace(out + '.tmp', out)
    return loaded
