"""Read any weights file a user may have: the one dispatcher.

:func:`load_weights` recognises the kind of a file from its keys (see
:data:`~mm_cyclegan.apis.weights.kinds.KINDS`) and hands it to that
format's reader (``ours``, ``published``, ``junyanz``, ``mmagic``), which
returns a :class:`~mm_cyclegan.apis.weights.kinds.LoadedWeights`. Nothing
here builds a Runner or needs a config file.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Mapping, Optional, Sequence

from mm_cyclegan.apis.weights import junyanz, mmagic, ours, published
from mm_cyclegan.apis.weights.kinds import (
    KINDS,
    LoadedWeights,
    UnknownWeightsError,
    check_state_dict_tensors,
    expected_kinds_text,
    load_tensors,
    unknown,
)
from mm_cyclegan.engine.checkpoint import strip_module_prefix

__all__ = ['KINDS', 'LoadedWeights', 'UnknownWeightsError', 'load_weights']


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


def _from_folder(path: str) -> LoadedWeights:
    files = junyanz.folder_files(path)
    if 'G_A' in files or 'G_B' in files:
        return junyanz.read_folder(path, files)
    entries = sorted(os.listdir(path))[:6]
    raise UnknownWeightsError(
        f'{path} is a folder without a model in it (holds {entries}); '
        'expected one of:\n' + expected_kinds_text())


def _from_pth(path: str, config: Optional[str],
              domains: Optional[Sequence[str]]) -> LoadedWeights:
    ckpt = load_tensors(path)
    if not isinstance(ckpt, Mapping):
        raise UnknownWeightsError(
            f'{path} holds a {type(ckpt).__name__}, not a state dict; '
            'expected one of:\n' + expected_kinds_text())
    state_dict = ckpt.get('state_dict', ckpt)
    if not isinstance(state_dict, Mapping):
        unknown(path, list(ckpt))
    check_state_dict_tensors(state_dict, path)
    # Saved from a DataParallel wrapper: 'module.' before every key.
    state_dict = strip_module_prefix(state_dict)
    if ours.is_ours(state_dict):
        return ours.read_ours(path, ckpt, state_dict, config)
    if mmagic.is_mmagic(state_dict):
        return mmagic.read_mmagic(path, ckpt, state_dict, domains)
    if junyanz.is_resnet(state_dict) or junyanz.is_unet(state_dict):
        return junyanz.read_file(path, state_dict)
    if junyanz.is_discriminator(state_dict):
        unknown(path, list(state_dict), ' (it looks like a junyanz '
                'discriminator; translation needs a generator, '
                'latest_net_G_A.pth)')
    unknown(path, list(state_dict))


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
    files = published.published_files(path)
    if files:
        return published.read_published(*files)
    if osp.isdir(path):
        return _from_folder(path)
    if path.endswith('.safetensors') or path.endswith('.json'):
        raise UnknownWeightsError(
            f'{path}: no published model (the .safetensors file of '
            f'tools/publish.py) here; expected one of:\n'
            + expected_kinds_text())
    return _from_pth(path, config, domains)
