"""The paper's weight initialisation, and a base class that applies it.

Convolution and linear weights are drawn from N(0, gain) (or xavier /
kaiming / orthogonal), batch-norm weights from N(1, gain), all biases are
zero, other norms get weight 1. This is MMagic's ``generation_init_weights``
(the same draws in the same order: with the same seed both give the same
weights), which is not used itself because it crashes when MMEngine tracks
initialisation (open-mmlab/mmagic#2109).
"""
from __future__ import annotations

import copy
import warnings
from typing import Optional

import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import initialize, update_init_info

from mm_cyclegan.utils.validation import (
    NotImplementedValueError,
    check_choice,
    check_number,
)

INIT_TYPES = ('normal', 'xavier', 'kaiming', 'orthogonal')
DEFAULT_GAIN = 0.02
DEFAULT_INIT_CFG = dict(type='normal', gain=DEFAULT_GAIN)

# Norms whose weight is drawn from N(1, gain): MMagic's and the reference's
# choice (they match class names containing 'BatchNorm2d'). Other norms are
# reset to weight 1 and bias 0 (their construction values).
_DRAWN_NORM_TYPES = (nn.BatchNorm2d, )
_OTHER_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.GroupNorm,
                     nn.LayerNorm)


def check_init_cfg(init_cfg: Optional[dict]) -> dict:
    """Validate ``init_cfg`` and return a copy with every default filled in.

    ``None`` means the paper's N(0, 0.02). ``dict(type='Pretrained',
    checkpoint=...)`` loads weights (after the default initialisation, so
    keys missing from the checkpoint are still initialised sensibly).
    """
    if init_cfg is None:
        return dict(DEFAULT_INIT_CFG)
    if not isinstance(init_cfg, dict):
        raise TypeError('init_cfg must be a dict or None, got '
                        f'{init_cfg!r} ({type(init_cfg).__name__})')
    cfg = copy.deepcopy(init_cfg)
    init_type = cfg.get('type', 'normal')
    if init_type == 'Pretrained':
        if not cfg.get('checkpoint'):
            raise ValueError(
                f"init_cfg {init_cfg!r} of type 'Pretrained' needs a "
                "'checkpoint' path")
        return cfg
    check_choice("init type in init_cfg (or 'Pretrained')", init_type,
                 INIT_TYPES, error=NotImplementedValueError)
    gain = check_number('init gain', cfg.get('gain', DEFAULT_GAIN),
                        minimum=0)
    unknown = set(cfg) - {'type', 'gain'}
    if unknown:
        # MMagic reads only 'type' and 'gain'; configs written for it may
        # carry other keys (such as 'bias') and must keep building.
        warnings.warn(f'init_cfg keys {sorted(unknown)} of {init_cfg!r} '
                      "are ignored (only 'type' and 'gain' are used)")
    return dict(type=init_type, gain=float(gain))


def init_weights_(module: nn.Module,
                  init_type: str = 'normal',
                  gain: float = 0.02) -> None:
    """Initialise every conv, linear and norm layer of ``module`` in place.

    ``gain`` is the standard deviation for ``normal``, the gain for
    ``xavier`` and ``orthogonal``; ``kaiming`` (fan-in, ReLU) ignores it,
    as the reference implementation does. Batch-norm weights get N(1, gain),
    other norms weight 1 (as MMagic).
    """
    check_choice('init_type', init_type, INIT_TYPES,
                 error=NotImplementedValueError)
    for m in module.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            if init_type == 'normal':
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == 'xavier':
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init_type == 'kaiming':
                nn.init.kaiming_normal_(m.weight, a=0, mode='fan_in')
            else:
                nn.init.orthogonal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _DRAWN_NORM_TYPES + _OTHER_NORM_TYPES):
            if getattr(m, 'weight', None) is not None:
                if isinstance(m, _DRAWN_NORM_TYPES):
                    nn.init.normal_(m.weight, 1.0, gain)
                else:
                    nn.init.ones_(m.weight)
            if getattr(m, 'bias', None) is not None:
                nn.init.zeros_(m.bias)


class PaperInitModule(BaseModule):
    """A ``BaseModule`` whose ``init_weights`` applies :func:`init_weights_`.

    Subclasses pass their ``init_cfg`` here; it is validated at construction
    so that a typo fails when the config is built, not when training starts.
    """

    def __init__(self, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=check_init_cfg(init_cfg))

    def init_weights(self) -> None:
        """Initialise all weights as ``init_cfg`` says.

        Called by MMEngine's Runner through the parent model; may be called
        again to re-initialise.
        """
        cfg = self.init_cfg
        if cfg['type'] == 'Pretrained':
            init_weights_(self, 'normal', DEFAULT_GAIN)
            initialize(self, cfg)
        else:
            init_weights_(self, cfg['type'], cfg['gain'])
            # A parent BaseModule shares this dict to log how every
            # parameter was initialised.
            if hasattr(self, '_params_init_info'):
                update_init_info(
                    self,
                    init_info=f'{cfg["type"]} init with gain {cfg["gain"]} '
                    f'by {type(self).__name__}.init_weights')
        self._is_init = True
