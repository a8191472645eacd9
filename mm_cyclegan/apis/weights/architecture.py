"""Networks from weights: infer their config from keys, load strictly.

Our ``ResnetGenerator``, ``UnetGenerator`` and ``PatchDiscriminator`` name
their tensors in MMagic's layout (``model.N.conv.weight``,
``encoder.N.conv.weight``, ...), so a state dict in that layout tells the
architecture by its keys and shapes. Instance norm without affine and "no
norm" leave the same keys; both the reference implementation and MMagic
train CycleGAN with instance norm, so that is what an inference assumes.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from torch import Tensor, nn

from mm_cyclegan.engine.checkpoint import (
    CheckpointMismatchError,
    compare_state_dicts,
)
from mm_cyclegan.models.generators.unet import UnetGenerator
from mm_cyclegan.registry import MODELS, SCOPE

StateDict = Mapping[str, Tensor]

# How many stride-2 steps the ResNet generator takes (H, W multiple of 4).
_RESNET_MULTIPLE = 4


def _indices(state_dict: StateDict, pattern: str) -> list[int]:
    regex = re.compile(pattern)
    found = {int(m.group(1)) for k in state_dict for m in [regex.match(k)]
             if m}
    return sorted(found)


def _norm_cfg(state_dict: StateDict, module: str) -> dict:
    # mmcv names a BatchNorm 'bn'; instance norm without affine has no keys.
    if f'{module}.bn.weight' in state_dict:
        return dict(type='BN')
    return dict(type='IN')


def infer_resnet_cfg(state_dict: StateDict) -> dict:
    """``ResnetGenerator`` config of a state dict in our/MMagic layout."""
    first = state_dict['model.0.conv.weight']
    blocks = _indices(state_dict, r'model\.(\d+)\.block\.0\.conv\.weight$')
    num_blocks = len(blocks)
    if blocks != list(range(3, 3 + num_blocks)):
        raise ValueError(f'residual blocks at model.{blocks} are not '
                         'consecutive from model.3')
    use_dropout = num_blocks > 0 and \
        'model.3.block.2.conv.weight' in state_dict
    up = 3 + num_blocks
    resize_conv = f'model.{up}.conv.conv.weight' in state_dict
    last = state_dict[f'model.{up + 2}.conv.weight']
    return dict(
        type='ResnetGenerator',
        in_channels=int(first.shape[1]),
        out_channels=int(last.shape[0]),
        base_channels=int(first.shape[0]),
        num_blocks=num_blocks,
        norm_cfg=_norm_cfg(state_dict, 'model.0'),
        use_dropout=use_dropout,
        upsample_mode='resize_conv' if resize_conv else 'deconv')


def infer_unet_cfg(state_dict: StateDict) -> dict:
    """``UnetGenerator`` config of a state dict in our layout.

    Dropout leaves no keys (and does nothing in eval mode), so it is
    reported as off.
    """
    first = state_dict['encoder.0.conv.weight']
    num_down = len(_indices(state_dict, r'encoder\.(\d+)\.conv\.weight$'))
    # Transposed conv weights are (in, out, k, k).
    out_channels = int(state_dict['decoder.0.0.conv.weight'].shape[1])
    return dict(
        type='UnetGenerator',
        in_channels=int(first.shape[1]),
        out_channels=out_channels,
        num_down=num_down,
        base_channels=int(first.shape[0]),
        norm_cfg=_norm_cfg(state_dict, 'encoder.1'),
        use_dropout=False)


def infer_generator_cfg(state_dict: StateDict) -> dict:
    """Config of the generator whose weights are ``state_dict``."""
    if 'model.0.conv.weight' in state_dict:
        return infer_resnet_cfg(state_dict)
    if 'encoder.0.conv.weight' in state_dict:
        return infer_unet_cfg(state_dict)
    raise ValueError('not a ResnetGenerator or UnetGenerator state dict '
                     f'(first keys: {list(state_dict)[:4]})')


def infer_discriminator_cfg(state_dict: StateDict) -> dict:
    """``PatchDiscriminator`` config of a state dict in our layout."""
    first = state_dict['model.0.conv.weight']
    num_conv = len(_indices(state_dict, r'model\.(\d+)\.conv\.weight$')) - 1
    return dict(
        type='PatchDiscriminator',
        in_channels=int(first.shape[1]),
        base_channels=int(first.shape[0]),
        num_conv=num_conv,
        norm_cfg=_norm_cfg(state_dict, 'model.1'))


def infer_network_cfg(name: str, state_dict: StateDict) -> dict:
    """Config of network ``name`` (``generator_*`` or ``discriminator_*``)
    from its weights."""
    if name.startswith('generator'):
        return infer_generator_cfg(state_dict)
    return infer_discriminator_cfg(state_dict)


def describe(cfg: Mapping[str, Any]) -> str:
    """One line naming a network config, e.g. ``ResnetGenerator(...)``."""
    args = ', '.join(f'{k}={v!r}' for k, v in cfg.items() if k != 'type')
    return f'{cfg.get("type")}({args})'


def load_strict(network: nn.Module, state_dict: StateDict, source: str,
                what: str, cfg: Optional[Mapping] = None) -> nn.Module:
    """Load ``state_dict`` into ``network``; every key must match.

    Raises ``CheckpointMismatchError`` (the one mismatch error, which
    ``load_model_weights`` raises too) naming the file (``source``), the
    role (``what``, e.g. ``'generator_a2b'``), the expected layout and the
    first missing / unexpected / mismatched keys.
    """
    if isinstance(network, UnetGenerator):
        # Earlier key names of the same layers (the U-Net's first layout,
        # which the reference converter writes) are renamed before checking.
        state_dict = dict(state_dict)
        network.upgrade_legacy_keys(state_dict)
    report = compare_state_dicts(network.state_dict(), state_dict)
    if not report.complete:
        layout = describe(cfg) if cfg else type(network).__name__
        raise CheckpointMismatchError(
            f'{source}: the weights of {what} do not fit {layout}:\n'
            + report.describe(labels=('missing', 'unexpected',
                                      'mismatched')))
    network.load_state_dict(dict(state_dict), strict=True)
    return network


def build_network(cfg: Mapping[str, Any], state_dict: StateDict,
                  source: str, what: str) -> nn.Module:
    """Build the network of ``cfg`` and load ``state_dict`` strictly."""
    from mmengine.registry import DefaultScope

    # Under another default scope (e.g. after MMagic's
    # register_all_modules), a bare 'ResnetGenerator' would resolve to
    # MMagic's class of that name.
    with DefaultScope.overwrite_default_scope(SCOPE):
        network = MODELS.build(dict(cfg))
    return load_strict(network, state_dict, source, what, cfg)


def size_multiple(generator: nn.Module) -> int:
    """What H and W of a generator's input must be divisible by."""
    num_down = getattr(generator, 'num_down', None)
    if isinstance(num_down, int):
        return 2**num_down
    return _RESNET_MULTIPLE


def min_size(generator: nn.Module) -> int:
    """Smallest H and W a generator can run on.

    The ResNet generator reflect-pads by 1 inside its residual blocks at
    1/4 resolution, which needs at least 2 pixels there.
    """
    multiple = size_multiple(generator)
    if getattr(generator, 'num_down', None) is None:
        return 2 * multiple
    return multiple


def sub_state_dict(state_dict: StateDict, prefix: str) -> dict:
    """The entries under ``prefix`` (e.g. ``'generator_a2b.'``), stripped."""
    return {k[len(prefix):]: v for k, v in state_dict.items()
            if k.startswith(prefix)}
