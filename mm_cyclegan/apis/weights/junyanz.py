"""Weights of the reference implementation (junyanz, pytorch-CycleGAN).

Repository: junyanz/pytorch-CycleGAN-and-pix2pix.

Its networks are ``nn.Sequential`` stacks saved as bare state dicts
(``latest_net_G_A.pth``; zoo files such as ``horse2zebra.pth``):

* ResnetGenerator: ``model.1`` first 7x7 conv, ``model.4/7`` strided convs,
  residual blocks ``model.10 ...`` with ``conv_block.1`` and ``.5`` (``.6``
  with dropout), transposed convs and the last conv after them.
* UnetGenerator: nested ``UnetSkipConnectionBlock``\\ s, ``model.model.0``
  (outermost down conv), ``model.model.1.model.3.model....`` inward.
* NLayerDiscriminator: convs ``model.0/2/5/8/11`` (3 layers).

Images are RGB in [-1, 1], like ours, so only key names change. Files saved
by PyTorch < 0.4 carry instance-norm ``running_mean`` / ``running_var`` /
``num_batches_tracked`` that the network never used; they are dropped
(a batch norm, which has a ``weight``, keeps its statistics).
"""
from __future__ import annotations

import glob
import os.path as osp
import re
from typing import Mapping

from torch import Tensor

from mm_cyclegan.apis.weights.architecture import (
    infer_discriminator_cfg,
    infer_generator_cfg,
)
from mm_cyclegan.apis.weights.kinds import (
    LoadedWeights,
    check_state_dict_tensors,
    load_tensors,
    unknown,
)

StateDict = Mapping[str, Tensor]

_STATS = ('running_mean', 'running_var', 'num_batches_tracked')
# A junyanz ResnetGenerator's modules before the residual blocks:
# pad, conv, norm, relu, then (conv, norm, relu) x 2.
_FIRST_BLOCK = 10


def drop_stale_norm_stats(state_dict: StateDict) -> dict:
    """Drop running statistics of norm layers without affine weights.

    Those are instance norms of old files (pre-0.4 PyTorch tracked them);
    the reference never uses them and drops them too before loading.
    """
    out = {}
    for key, value in state_dict.items():
        module, _, name = key.rpartition('.')
        if name in _STATS and f'{module}.weight' not in state_dict:
            continue
        out[key] = value
    return out


def is_resnet(state_dict: StateDict) -> bool:
    """Whether the keys are a reference ResnetGenerator's."""
    return any('.conv_block.' in k for k in state_dict) and \
        'model.1.weight' in state_dict


def is_unet(state_dict: StateDict) -> bool:
    """Whether the keys are a reference UnetGenerator's."""
    return 'model.model.0.weight' in state_dict


def is_discriminator(state_dict: StateDict) -> bool:
    """Whether the keys are a reference NLayerDiscriminator's."""
    return 'model.0.weight' in state_dict and \
        not any('.conv_block.' in k for k in state_dict)


class _Mover:
    """Moves tensors from source to destination module names, once each."""

    def __init__(self, state_dict: StateDict) -> None:
        self.source = dict(state_dict)
        self.out: dict = {}

    def conv(self, src: str, dst: str) -> None:
        for name in ('weight', 'bias'):
            if f'{src}.{name}' in self.source:
                self.out[f'{dst}.{name}'] = self.source.pop(f'{src}.{name}')

    def norm(self, src: str, dst: str) -> None:
        # Only batch norm (affine, with statistics) has keys left by now.
        for name in ('weight', 'bias') + _STATS:
            if f'{src}.{name}' in self.source:
                self.out[f'{dst}.bn.{name}'] = self.source.pop(
                    f'{src}.{name}')

    def conv_norm(self, src_conv: str, src_norm: str, dst: str) -> None:
        self.conv(src_conv, f'{dst}.conv')
        self.norm(src_norm, dst)

    def finish(self, what: str) -> dict:
        if self.source:
            keys = list(self.source)
            raise ValueError(
                f'{len(keys)} key(s) of the {what} were not understood: '
                f'{keys[:5]}')
        return self.out


def _top(index: int) -> str:
    return f'model.{index}'


def convert_resnet(state_dict: StateDict) -> dict:
    """Reference ResnetGenerator keys -> our ``ResnetGenerator`` keys.

    The block count and dropout (which shifts the second conv of each
    block from ``conv_block.5`` to ``.6``) are read from the keys.
    """
    state_dict = drop_stale_norm_stats(state_dict)
    pattern = re.compile(r'model\.(\d+)\.conv_block\.')
    blocks = sorted({int(m.group(1)) for k in state_dict
                     for m in [pattern.match(k)] if m})
    n = len(blocks)
    if blocks != list(range(_FIRST_BLOCK, _FIRST_BLOCK + n)):
        raise ValueError(f'residual blocks at model.{blocks}; the reference '
                         f'layout has them consecutive from model.'
                         f'{_FIRST_BLOCK}')
    # With dropout the second conv is conv_block.6 (a 4-D weight); without
    # it, conv_block.6 is the norm (no key for IN, a 1-D weight for BN).
    second_conv = state_dict.get(f'model.{_FIRST_BLOCK}.conv_block.6.weight')
    dropout = second_conv is not None and second_conv.dim() == 4
    second = 6 if dropout else 5
    move = _Mover(state_dict)
    for src, dst in ((1, 0), (4, 1), (7, 2)):
        move.conv_norm(_top(src), _top(src + 1), _top(dst))
    for i, index in enumerate(blocks):
        block = f'model.{index}.conv_block'
        target = f'model.{3 + i}.block'
        move.conv_norm(f'{block}.1', f'{block}.2', f'{target}.0')
        move.conv_norm(f'{block}.{second}', f'{block}.{second + 1}',
                       f'{target}.{2 if dropout else 1}')
    # After the blocks: convT, norm, relu, convT, norm, relu, pad, conv.
    up = _FIRST_BLOCK + n
    move.conv_norm(_top(up), _top(up + 1), _top(3 + n))
    move.conv_norm(_top(up + 3), _top(up + 4), _top(4 + n))
    move.conv(_top(up + 7), f'{_top(5 + n)}.conv')
    return move.finish('reference ResnetGenerator')


def convert_unet(state_dict: StateDict) -> dict:
    """Reference UnetGenerator keys -> our ``UnetGenerator`` keys.

    Level 0 is ``model.model`` = ``[down, inner, relu, up, tanh]``; a middle
    level is ``[lrelu, down, norm, inner, relu, up, norm(, dropout)]`` and
    the innermost ``[lrelu, down, relu, up, norm]``.
    """
    state_dict = drop_stale_norm_stats(state_dict)
    prefixes = ['model.model.']
    while True:
        inner = '1' if len(prefixes) == 1 else '3'
        candidate = f'{prefixes[-1]}{inner}.model.'
        if not any(k.startswith(candidate) for k in state_dict):
            break
        prefixes.append(candidate)
    innermost = len(prefixes) - 1
    move = _Mover(state_dict)
    move.conv(f'{prefixes[0]}0', 'encoder.0.conv')
    move.conv(f'{prefixes[0]}3', 'decoder.0.0.conv')
    for level in range(1, len(prefixes)):
        p = prefixes[level]
        if level == innermost:
            move.conv(f'{p}1', f'encoder.{level}.conv')
            move.conv_norm(f'{p}3', f'{p}4', f'decoder.{level}.0')
        else:
            move.conv_norm(f'{p}1', f'{p}2', f'encoder.{level}')
            move.conv_norm(f'{p}5', f'{p}6', f'decoder.{level}.0')
    return move.finish('reference UnetGenerator')


def convert_discriminator(state_dict: StateDict) -> dict:
    """Reference NLayerDiscriminator keys -> our ``PatchDiscriminator``."""
    state_dict = drop_stale_norm_stats(state_dict)
    convs = sorted({int(m.group(1)) for k in state_dict
                    for m in [re.match(r'model\.(\d+)\.weight$', k)] if m
                    and f'model.{m.group(1)}.running_var' not in state_dict
                    and state_dict[k].dim() == 4})
    num_conv = len(convs) - 2
    expected = [0] + [2 + 3 * k for k in range(num_conv + 1)]
    if num_conv < 1 or convs != expected:
        raise ValueError(f'convolutions at model.{convs}; the reference '
                         f'NLayerDiscriminator has them at model.0, 2, 5, '
                         '8, ... (conv, norm, LeakyReLU)')
    move = _Mover(state_dict)
    move.conv(_top(0), 'model.0.conv')
    for k in range(num_conv):
        src = 2 + 3 * k
        move.conv_norm(_top(src), _top(src + 1), _top(k + 1))
    move.conv(_top(convs[-1]), _top(num_conv + 1))
    return move.finish('reference NLayerDiscriminator')


def convert_generator(state_dict: StateDict) -> dict:
    """Convert a reference ResNet or U-Net generator (detected by keys)."""
    if is_resnet(state_dict):
        return convert_resnet(state_dict)
    if is_unet(state_dict):
        return convert_unet(state_dict)
    raise ValueError('not a reference ResnetGenerator or UnetGenerator '
                     f'state dict (first keys: {list(state_dict)[:4]})')


# ------------------------------------------------------------- the readers


def _generator(state_dict: StateDict) -> tuple:
    converted = convert_generator(state_dict)
    return infer_generator_cfg(converted), converted


def read_file(path: str, state_dict: StateDict) -> LoadedWeights:
    """One junyanz generator file as :class:`LoadedWeights`."""
    stem = osp.splitext(osp.basename(path))[0]
    name = 'generator_b2a' if re.search(r'G_B$', stem) else 'generator_a2b'
    loaded = LoadedWeights(kind='junyanz', source=path)
    loaded.networks[name] = _generator(state_dict)
    # Zoo files are named after their translation: horse2zebra.pth.
    m = re.fullmatch(r'([A-Za-z]+)2([A-Za-z]+)(_pretrained)?', stem)
    if m and name == 'generator_a2b':
        loaded.domains = (m.group(1), m.group(2))
    return loaded


def folder_files(folder: str) -> dict:
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


def read_folder(folder: str, files: Mapping) -> LoadedWeights:
    """A junyanz training folder (:func:`folder_files`) as
    :class:`LoadedWeights`."""
    loaded = LoadedWeights(kind='junyanz_dir', source=folder)
    # G_A maps A -> B; D_A judges domain-B images (reference cycle_gan_model).
    roles = {'G_A': 'generator_a2b', 'G_B': 'generator_b2a',
             'D_A': 'discriminator_b', 'D_B': 'discriminator_a'}
    for net, path in files.items():
        state_dict = load_tensors(path)
        if not isinstance(state_dict, Mapping):
            unknown(path, [])
        check_state_dict_tensors(state_dict, path)
        if net.startswith('G'):
            loaded.networks[roles[net]] = _generator(state_dict)
        else:
            converted = convert_discriminator(state_dict)
            loaded.networks[roles[net]] = (
                infer_discriminator_cfg(converted), converted)
    return loaded
