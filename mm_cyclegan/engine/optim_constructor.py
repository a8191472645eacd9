"""Two optimisers for CycleGAN: one over both generators, one over both
discriminators (the paper's ``itertools.chain`` pairing)."""
from __future__ import annotations

import copy
from typing import Optional, cast

import torch
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmengine.registry import DefaultScope
from torch import nn

from mm_cyclegan.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

GROUPS = {
    'generators': ('generator_a2b', 'generator_b2a'),
    'discriminators': ('discriminator_a', 'discriminator_b'),
}


def _unwrap(module: nn.Module) -> nn.Module:
    if is_model_wrapper(module):
        return cast(nn.Module, module.module)
    return module


def default_fused(optimizer_cfg: Optional[dict], networks: nn.Module) -> None:
    """Set ``fused=True`` in a torch ``Adam``/``AdamW`` config that chose
    neither ``fused`` nor ``foreach``, when every parameter is a float
    tensor on the CPU or a CUDA device (where torch has the fused kernel)."""
    if not isinstance(optimizer_cfg, dict):
        return
    kind = optimizer_cfg.get('type')
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        cls = kind if isinstance(kind, type) else OPTIMIZERS.get(kind)
    if cls not in (torch.optim.Adam, torch.optim.AdamW):
        return
    if optimizer_cfg.get('fused') is not None or \
            optimizer_cfg.get('foreach') is not None:
        return
    params = list(networks.parameters())
    if params and all(p.is_floating_point() and
                      p.device.type in ('cpu', 'cuda') for p in params):
        optimizer_cfg['fused'] = True


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CycleGANOptimWrapperConstructor:
    """Build ``OptimWrapperDict(generators=..., discriminators=...)``.

    Config::

        optim_wrapper = dict(
            constructor='CycleGANOptimWrapperConstructor',
            generators=dict(optimizer=dict(type='Adam', lr=2e-4,
                                           betas=(0.5, 0.999))),
            discriminators=dict(optimizer=dict(type='Adam', lr=2e-4,
                                               betas=(0.5, 0.999))))

    Each entry is an ordinary MMEngine optim-wrapper config (``type`` may be
    ``AmpOptimWrapper``; ``paramwise_cfg`` is allowed per entry).

    ``Adam``/``AdamW`` run fused (``fused=True``, one kernel for all
    parameters) unless the config sets ``fused`` or ``foreach``: the same
    update to float rounding, and 3.5x faster than torch's default
    per-parameter loop for the paper's four networks on one CPU core
    (``benchmarks/speed.py``, "Optimiser step").
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        missing = [k for k in GROUPS if k not in optim_wrapper_cfg]
        unknown = [k for k in optim_wrapper_cfg if k not in GROUPS]
        if missing or unknown:
            raise ValueError(
                'CycleGAN optim_wrapper needs exactly the keys '
                f"{sorted(GROUPS)}; missing {missing}, unknown {unknown}")
        if paramwise_cfg is not None:
            raise ValueError('give paramwise_cfg inside each of '
                             f'{sorted(GROUPS)}, not at the top level')
        self.optim_wrapper_cfg = copy.deepcopy(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Create one optim wrapper per group over the unwrapped networks."""
        model = _unwrap(model)
        wrappers = {}
        for group, names in GROUPS.items():
            cfg = copy.deepcopy(self.optim_wrapper_cfg[group])
            paramwise = cfg.pop('paramwise_cfg', None)
            networks = nn.ModuleList(
                [_unwrap(getattr(model, name)) for name in names])
            default_fused(cfg.get('optimizer'), networks)
            wrappers[group] = DefaultOptimWrapperConstructor(
                cfg, paramwise)(networks)
        return OptimWrapperDict(**wrappers)
