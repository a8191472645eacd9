"""Option resolution shared by the generators and discriminators.

Every layer choice (norm, padding) is validated and resolved here, once, so
that each network file only describes its architecture and every network
rejects a bad option with the same message. The rules are MMagic's (norm
types of MMCV's ``build_norm_layer``, MMagic's conv-bias rule), so that a
network sharing a name with an MMagic class builds the same layers.
"""
from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Optional, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS as MMENGINE_MODELS

from mm_cyclegan.models.generators._padding import keep_dtype_padding
from mm_cyclegan.utils.validation import (
    AssertionTypeError,
    AssertionValueError,
    check_choice,
)

# Our extra spellings (lower case, not MMCV types); the value is the MMCV
# type they stand for, ``None`` for no norm. MMCV's own type names ('IN',
# 'BN', 'SyncBN', 'GN', 'LN', 'IN2d', ...) are used unchanged.
_NORM_ALIASES = {
    'in': 'IN',
    'in2d': 'IN',
    'instance': 'IN',
    'instancenorm': 'IN',
    'instancenorm2d': 'IN',
    'bn': 'BN',
    'bn2d': 'BN',
    'batch': 'BN',
    'batchnorm': 'BN',
    'batchnorm2d': 'BN',
    'none': None,
}

# Base classes of torch's norm layers (with mmcv's ``_abbr_`` attribute or
# 'Norm' in the class name, other registered classes count as norms too).
_NORM_BASES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm,
               nn.LocalResponseNorm)

PADDING_MODES = ('reflect', 'replicate', 'zeros')

NormCfg = Union[Mapping, str, None]

# Read-only defaults, so that no constructor has a mutable default argument.
INSTANCE_NORM: Mapping = MappingProxyType({'type': 'IN'})
BATCH_NORM: Mapping = MappingProxyType({'type': 'BN'})


def _find_norm_layer(norm_type: str) -> Optional[type]:
    """The class MMCV's ``build_norm_layer`` would build for ``norm_type``.

    Looked up exactly as MMCV does (the current default scope's registry,
    then its parents), so any norm registered with MMEngine's ``MODELS``
    (MMCV's 'BN', 'SyncBN', 'GN', 'LN', 'IN', ... or a user's) is found.
    """
    with MMENGINE_MODELS.switch_scope_and_registry(None) as registry:
        found = registry.get(norm_type)
    return found if _is_norm_class(found) else None


def _is_norm_class(cls: Any) -> bool:
    """Whether ``cls`` is a norm layer class (not, say, a registered conv)."""
    if not inspect.isclass(cls) or not issubclass(cls, nn.Module):
        return False
    return (issubclass(cls, _NORM_BASES) or hasattr(cls, '_abbr_')
            or 'norm' in cls.__name__.lower())


def resolve_norm_cfg(norm_cfg: NormCfg) -> Optional[dict]:
    """Return the MMCV norm config for ``norm_cfg``, or ``None`` for no norm.

    Accepts every ``dict(type=...)`` that MMCV's ``build_norm_layer``
    accepts (MMagic's spelling; other keys such as ``affine`` or
    ``num_groups`` go to the layer), and as our extensions a bare type
    string, lower-case spellings (``'instance'``, ``'batch'``, ...) and
    ``None`` / ``'none'`` / ``dict(type='none')`` for no norm.
    """
    if norm_cfg is None:
        return None
    if isinstance(norm_cfg, str):
        norm_cfg = dict(type=norm_cfg)
    if not isinstance(norm_cfg, Mapping):
        raise AssertionTypeError(
            'norm_cfg must be a dict, a str or None, got '
            f'{norm_cfg!r} ({type(norm_cfg).__name__})')
    if 'type' not in norm_cfg:
        raise AssertionValueError(f"norm_cfg {norm_cfg!r} has no 'type' key")
    resolved = dict(norm_cfg)
    norm_type = resolved['type']
    if norm_type is None:
        return None
    if inspect.isclass(norm_type):
        if not _is_norm_class(norm_type):
            raise TypeError(f'norm_cfg type {norm_type!r} is not a norm '
                            'layer class')
        return resolved
    if not isinstance(norm_type, str):
        raise TypeError(f'norm_cfg type must be a str or a class, got '
                        f'{norm_type!r} ({type(norm_type).__name__})')
    if _find_norm_layer(norm_type) is not None:
        return resolved
    key = norm_type.lower()
    if key not in _NORM_ALIASES:
        raise ValueError(
            f'unknown norm type {norm_type!r} in norm_cfg; expected a norm '
            "that MMCV's build_norm_layer knows ('IN', 'BN', 'SyncBN', "
            "'GN', 'LN', ...) or 'none'")
    if _NORM_ALIASES[key] is None:
        return None
    resolved['type'] = _NORM_ALIASES[key]
    return resolved


def conv_bias(norm_cfg: Optional[dict]) -> bool:
    """Whether a conv followed by the norm ``norm_cfg`` has a bias.

    MMagic's rule (that of the pix2pix/CycleGAN reference code): only
    ``type='IN'`` keeps the bias, whatever its ``affine``, so that MMagic's
    checkpoints load strictly; the paper's networks (instance norm without
    affine) get their published parameter counts from it. A conv without a
    norm (our ``None``) keeps its bias too.
    """
    return norm_cfg is None or norm_cfg['type'] == 'IN'


def check_padding_mode(padding_mode: Any) -> str:
    """Validate a padding mode of the generators' padded convolutions."""
    return check_choice('padding_mode', padding_mode, PADDING_MODES)


def conv_module(*args: Any, **kwargs: Any) -> ConvModule:
    """Build an mmcv ``ConvModule`` without its conv-bias-before-norm warning.

    The paper's networks keep the bias of convolutions followed by instance
    norm (it is part of their published parameter count), and mmcv warns
    about each of them. Reflection/replication padding layers are swapped
    for ones that stay in bf16/fp16 under autocast (``_padding.py``).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore', message='Unnecessary conv bias before')
        return keep_dtype_padding(ConvModule(*args, **kwargs))
