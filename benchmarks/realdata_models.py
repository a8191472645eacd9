"""The two contenders of the real-data benchmark, built and started alike.

Ours comes from a config's ``model`` dict (a recipe), optionally shrunk to
the demo's network size; MMagic 1.2.0's built-in ``CycleGAN`` gets the same
architecture where it has one (it only knows transposed-conv upsampling)
and its own defaults otherwise (identity weight 0.5 absolute,
discriminators first, ``GANImageBuffer``). Both start from the same initial
weights: MMagic's networks are loaded from a deconv twin of ours that
shares every tensor ours has (all of them when ours uses deconv; all but
the upsampling convs with resize-conv).
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from benchmarks import mmagic_baseline as mmb
from benchmarks.quality_data import as_float

# The demo's network size (configs/cyclegan_demo.py).
DEMO_GENERATOR = dict(base_channels=16, num_blocks=4)
DEMO_DISCRIMINATOR = dict(base_channels=16, num_conv=2)
# The architecture keys MMagic's networks share with ours.
GENERATOR_KEYS = ('in_channels', 'out_channels', 'base_channels',
                  'num_blocks', 'norm_cfg', 'use_dropout', 'padding_mode')
DISCRIMINATOR_KEYS = ('in_channels', 'base_channels', 'num_conv',
                      'norm_cfg')
GENERATORS = ('generator_a2b', 'generator_b2a')
DISCRIMINATORS = ('discriminator_a', 'discriminator_b')


def recipe(config: str, demo_size: bool) -> tuple[dict, tuple]:
    """``(model cfg, (pool size, swap prob))`` of a config file.

    With ``demo_size`` every generator and discriminator gets the demo's
    width and depth; everything else (upsampling, losses, identity weight,
    regularisation) stays the recipe's.
    """
    cfg = Config.fromfile(config)
    model = copy.deepcopy(cfg.to_dict()['model'])
    if model.get('type') != 'CycleGAN':
        raise ValueError(f'{config}: model.type must be CycleGAN, got '
                         f'{model.get("type")!r}')
    if demo_size:
        for name in GENERATORS + DISCRIMINATORS:
            if model.get(name) is not None:
                model[name].update(DEMO_GENERATOR if name in GENERATORS
                                   else DEMO_DISCRIMINATOR)
    pool = (50, 0.5)
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'ImagePoolHook':
            pool = (hook.get('pool_size', 50), hook.get('swap_prob', 0.5))
    return model, pool


def build_ours(model_cfg: dict, seed: int) -> nn.Module:
    """Our ``CycleGAN`` from ``model_cfg``, N(0, 0.02) init from ``seed``."""
    from mm_cyclegan.registry import MODELS

    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        model = MODELS.build(copy.deepcopy(model_cfg))
    if not type(model).__module__.startswith('mm_cyclegan.'):
        raise RuntimeError(f'built {type(model)}, not our CycleGAN')
    torch.manual_seed(seed)
    for name in GENERATORS + DISCRIMINATORS:
        getattr(model, name).init_weights()
    return model


def mmagic_architecture(model_cfg: dict) -> tuple[dict, dict]:
    """MMagic's ``ResnetGenerator``/``PatchDiscriminator`` arguments for
    the architecture of ``model_cfg`` (its ``generator_a2b`` and
    ``discriminator_b``)."""
    gen, disc = model_cfg['generator_a2b'], model_cfg['discriminator_b']
    if gen.get('type') != 'ResnetGenerator' or disc.get(
            'type') != 'PatchDiscriminator':
        raise ValueError('the MMagic baseline needs ResnetGenerator and '
                         f'PatchDiscriminator, got {gen.get("type")!r} and '
                         f'{disc.get("type")!r}')
    return ({k: gen[k] for k in GENERATOR_KEYS if k in gen},
            {k: disc[k] for k in DISCRIMINATOR_KEYS if k in disc})


def deconv_twin(ours: nn.Module, model_cfg: dict, seed: int
                ) -> tuple[nn.Module, int, int]:
    """A deconv copy of ``ours`` (same architecture otherwise) holding
    every tensor of ``ours`` whose name and shape match; returns it and
    the numbers of copied and of all tensors."""
    twin_cfg = copy.deepcopy(model_cfg)
    for name in GENERATORS:
        if twin_cfg.get(name) is not None:
            twin_cfg[name]['upsample_mode'] = 'deconv'
    twin = build_ours(twin_cfg, seed)
    mine = ours.state_dict()
    state = twin.state_dict()
    copied = 0
    for key, value in state.items():
        if key in mine and mine[key].shape == value.shape:
            state[key] = mine[key].clone()
            copied += 1
    twin.load_state_dict(state)
    return twin, copied, len(state)


def build_pair(model_cfg: dict, pool: tuple, seed: int,
               probe: tuple) -> dict:
    """Ours and MMagic's model, started alike; checks included.

    ``probe`` is a ``(a, b)`` float batch to check that MMagic's networks
    compute the same function as the deconv twin of ours.
    """
    from mm_cyclegan.engine import make_image_pools

    ours = build_ours(model_cfg, seed)
    twin, copied, total = deconv_twin(ours, model_cfg, seed)
    generator, discriminator = mmagic_architecture(model_cfg)
    theirs = mmb.build_mmagic_cyclegan(generator, discriminator,
                                       buffer_size=pool[0])
    mmb.load_our_weights(twin, theirs)
    init_diff = mmb.check_same_function(twin, theirs, *probe)
    data_diff = mmb.check_data_round_trip(theirs, *probe)
    ours.set_image_pools(make_image_pools(pool[0], pool[1], seed=seed))
    return dict(ours=ours, theirs=theirs, shared=(copied, total),
                init_diff=init_diff, data_diff=data_diff)


Translator = Callable[[str, Tensor], Tensor]


def our_translator(model: nn.Module) -> Translator:
    """``f(direction, x)``: our generators in eval mode, RGB [-1, 1]."""
    def translate(direction: str, x: Tensor) -> Tensor:
        net = getattr(model, f'generator_{direction}')
        return net(x).clamp(-1, 1)
    return translate


def mmagic_translator(model: nn.Module) -> Translator:
    """The same for MMagic's generators, which take and give BGR (its
    ``DataPreprocessor`` only reverses the channels and scales, checked by
    ``check_data_round_trip``)."""
    targets = {'a2b': mmb.DOMAIN_B, 'b2a': mmb.DOMAIN_A}

    def translate(direction: str, x: Tensor) -> Tensor:
        net = model.generators[targets[direction]]
        return net(x.flip(1)).flip(1).clamp(-1, 1)
    return translate


@torch.no_grad()
def translate_all(model: nn.Module, translate: Translator,
                  images: dict) -> dict:
    """Translations and cycle reconstructions of ``uint8`` test images
    (``dict(a=..., b=...)``), as ``uint8``: ``dict(a2b=(fake, rec),
    b2a=...)``. Outputs are rounded to 8 bits before the cycle, as if
    saved and reloaded."""
    from benchmarks.realdata_data import quantize

    previous = model.training
    model.eval()
    out = {}
    for direction, source in (('a2b', 'a'), ('b2a', 'b')):
        back = 'b2a' if direction == 'a2b' else 'a2b'
        fakes, recs = [], []
        for chunk in images[source].split(16):
            fake = quantize(translate(direction, as_float(chunk)))
            fakes.append(fake)
            recs.append(quantize(translate(back, as_float(fake))))
        out[direction] = (torch.cat(fakes), torch.cat(recs))
    model.train(previous)
    return out
