"""Option resolution shared by the generators and discriminators.

Every layer choice (norm, padding, channel counts) is validated and resolved
here, once, so that each network file only describes its architecture and
every network rejects a bad option with the same message.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Integral
from types import MappingProxyType
from typing import Any, Optional, Union

from mmcv.cnn import ConvModule

# Spellings accepted for each norm; the value is the canonical mmcv type.
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

# Whether the norm layer has a learnable shift by default (torch defaults:
# InstanceNorm2d affine=False, BatchNorm2d affine=True).
_DEFAULT_AFFINE = {'IN': False, 'BN': True}

PADDING_MODES = ('reflect', 'replicate', 'zeros')

NormCfg = Union[Mapping, str, None]

# Read-only defaults, so that no constructor has a mutable default argument.
INSTANCE_NORM: Mapping = MappingProxyType({'type': 'IN'})
BATCH_NORM: Mapping = MappingProxyType({'type': 'BN'})


def resolve_norm_cfg(norm_cfg: NormCfg) -> Optional[dict]:
    """Return the mmcv norm config for ``norm_cfg``, or ``None`` for no norm.

    Accepts ``dict(type='IN')`` / ``dict(type='BN')`` (MMagic's spelling,
    with extra keys such as ``affine`` passed to the layer), a bare type
    string, and ``None`` / ``'none'`` / ``dict(type='none')``.
    """
    if norm_cfg is None:
        return None
    if isinstance(norm_cfg, str):
        norm_cfg = dict(type=norm_cfg)
    if not isinstance(norm_cfg, Mapping):
        raise TypeError('norm_cfg must be a dict, a str or None, got '
                        f'{norm_cfg!r} ({type(norm_cfg).__name__})')
    if 'type' not in norm_cfg:
        raise ValueError(f"norm_cfg {norm_cfg!r} has no 'type' key")
    norm_type = norm_cfg['type']
    key = 'none' if norm_type is None else str(norm_type).lower()
    if key not in _NORM_ALIASES:
        raise ValueError(f'unknown norm type {norm_type!r} in norm_cfg; '
                         "expected 'IN', 'BN' or 'none'")
    canonical = _NORM_ALIASES[key]
    if canonical is None:
        return None
    resolved = dict(norm_cfg)
    resolved['type'] = canonical
    return resolved


def norm_has_shift(norm_cfg: Optional[dict]) -> bool:
    """Whether a resolved norm config has a learnable per-channel shift.

    A conv followed by such a norm needs no bias. Without one (no norm, or
    instance norm without ``affine``) the conv keeps its bias, which is what
    gives the paper's networks their published parameter counts.
    """
    if norm_cfg is None:
        return False
    return bool(norm_cfg.get('affine', _DEFAULT_AFFINE[norm_cfg['type']]))


def check_padding_mode(padding_mode: Any) -> str:
    """Validate a padding mode of the generators' padded convolutions."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f'unknown padding_mode {padding_mode!r}; expected '
                         f'one of {PADDING_MODES}')
    return padding_mode


def check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` if it is an int ``>= minimum``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f'{name} must be an int, got {value!r} '
                        f'({type(value).__name__})')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool; raise ``TypeError`` otherwise."""
    if not isinstance(value, bool):
        raise TypeError(f'{name} must be a bool, got {value!r} '
                        f'({type(value).__name__})')
    return value


def conv_module(*args: Any, **kwargs: Any) -> ConvModule:
    """Build an mmcv ``ConvModule`` without its conv-bias-before-norm warning.

    The paper's networks keep the bias of convolutions followed by instance
    norm (it is part of their published parameter count), and mmcv warns
    about each of them.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore', message='Unnecessary conv bias before')
        return ConvModule(*args, **kwargs)
