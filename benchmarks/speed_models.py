"""The contenders of ``benchmarks/speed.py``: the paper's networks (or
tiny smoke ones), our CycleGAN in each mode and MMagic's, started from the
same weights, and one training step's FLOPs."""
from __future__ import annotations

import copy
import sys
import time
from typing import Optional

import torch
from mmengine.registry import DefaultScope

import mm_cyclegan  # noqa: F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb

PAPER_GENERATOR = dict(in_channels=3, out_channels=3, base_channels=64,
                       num_blocks=9, norm_cfg=dict(type='IN'),
                       use_dropout=False, padding_mode='reflect')
PAPER_DISCRIMINATOR = dict(in_channels=3, base_channels=64, num_conv=3,
                           norm_cfg=dict(type='IN'))
# --smoke: the same code paths on tiny networks and images (seconds).
SMOKE_GENERATOR = dict(PAPER_GENERATOR, base_channels=4, num_blocks=1)
SMOKE_DISCRIMINATOR = dict(PAPER_DISCRIMINATOR, base_channels=4, num_conv=2)
BETAS, LR = (0.5, 0.999), 2e-4


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f'[speed {time.strftime("%H:%M:%S")}] {message}', file=sys.stderr,
          flush=True)


def networks(args) -> tuple[dict, dict]:
    """Generator and discriminator architecture (paper, or tiny)."""
    if args.smoke:
        return SMOKE_GENERATOR, SMOKE_DISCRIMINATOR
    return PAPER_GENERATOR, PAPER_DISCRIMINATOR


def checkpointing(mode: str):
    """The generators' ``with_cp`` for a mode name."""
    if mode.endswith('with_cp_all'):
        return 'all'
    return 'blocks' if mode.endswith('with_cp') else False


def build_ours(generator: dict, discriminator: dict, seed: int = 0,
               with_cp=False) -> torch.nn.Module:
    """Our CycleGAN (paper losses, transposed-conv upsampling like MMagic's
    generator), N(0, 0.02) init from ``seed``, image pools attached."""
    from mm_cyclegan.engine import make_image_pools
    from mm_cyclegan.registry import MODELS
    gen = dict(generator, type='ResnetGenerator', upsample_mode='deconv')
    if with_cp:
        gen['with_cp'] = with_cp
    cfg = dict(type='CycleGAN', generator_a2b=gen,
               discriminator_b=dict(discriminator, type='PatchDiscriminator'),
               gan_loss=dict(type='GANLoss', gan_type='lsgan'),
               cycle_loss_a=dict(type='CycleConsistencyLoss',
                                 loss_weight=10.0),
               identity_weight=0.5)
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        model = MODELS.build(cfg)
    torch.manual_seed(seed)
    for name in mmb.OURS_TO_MMAGIC:
        getattr(model, name).init_weights()
    model.set_image_pools(make_image_pools(50, 0.5, seed=0))
    return model.train()


def our_optim(model: torch.nn.Module, mode: str):
    """Adam for both groups; the mixed-precision wrapper in bf16 modes."""
    from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
    group = dict(optimizer=dict(type='Adam', lr=LR, betas=BETAS))
    if 'bf16' in mode:
        group.update(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        return CycleGANOptimWrapperConstructor(
            dict(generators=dict(group), discriminators=dict(group)))(model)


def build_mmagic(generator: dict, discriminator: dict,
                 ours: torch.nn.Module) -> torch.nn.Module:
    """MMagic's built-in CycleGAN, started from our weights."""
    theirs = mmb.build_mmagic_cyclegan(generator, discriminator,
                                       cycle_loss_weight=10.0,
                                       id_loss_weight=0.5, buffer_size=50)
    mmb.load_our_weights(ours, theirs)
    return theirs.train()


def random_images(size: int, seed: int = 0) -> tuple:
    """Two images in [-1, 1] on the uint8 grid (MMagic's input format)."""
    gen = torch.Generator().manual_seed(seed)
    pair = [torch.randint(0, 256, (1, 3, size, size), generator=gen)
            for _ in range(2)]
    return tuple(p.float() / 127.5 - 1 for p in pair)


class Contender:
    """One model + optimiser + batch format, stepped by the timing loop."""

    def __init__(self, name: str, model, optim, batch: dict,
                 peak_dtype: str) -> None:
        self.name, self.model, self.optim = name, model, optim
        self.batch, self.peak_dtype = batch, peak_dtype
        self.times: list = []
        self.flops: Optional[int] = None
        self.first: Optional[float] = None
        # compile mode: the eager networks, to fall back to.
        self.eager: Optional[dict] = None

    def step(self) -> float:
        """One training step; returns its wall time."""
        tic = time.perf_counter()
        try:
            self.model.train_step(self.batch, self.optim)
        except Exception as exc:  # noqa: BLE001 (any compiler failure)
            if not self.eager:
                raise
            log(f'{self.name}: torch.compile failed ({type(exc).__name__}: '
                f'{str(exc)[:300]}); falling back to the eager networks')
            for name, network in self.eager.items():
                setattr(self.model, name, network)
            self.eager, self.name = None, f'{self.name} (failed: eager)'
            tic = time.perf_counter()
            self.model.train_step(self.batch, self.optim)
        return time.perf_counter() - tic


def make_contenders(args, size: int, modes: list) -> list:
    """MMagic's model and ours in each mode, all from the same weights."""
    generator, discriminator = networks(args)
    img_a, img_b = random_images(size)
    base = build_ours(generator, discriminator)
    ours_batch = dict(img_a=img_a, img_b=img_b)
    out = [Contender('MMagic 1.2.0', build_mmagic(generator, discriminator,
                                                  base),
                     None, mmb.to_mmagic_batch(img_a, img_b), 'fp32')]
    out[0].optim = mmb.make_optim_wrapper(out[0].model, LR, BETAS)
    for mode in modes:
        if checkpointing(mode):
            model = build_ours(generator, discriminator,
                               with_cp=checkpointing(mode))
            model.load_state_dict(base.state_dict())
        else:
            model = copy.deepcopy(base)
        batch = dict(ours_batch)
        if mode == 'channels_last':
            model = model.to(memory_format=torch.channels_last)
            batch = {k: v.contiguous(memory_format=torch.channels_last)
                     for k, v in batch.items()}
        optim = our_optim(model, mode)
        contender = Contender(f'ours {mode}', model, optim, batch,
                              'bf16' if 'bf16' in mode else 'fp32')
        if mode.endswith('compile'):
            contender.eager = compile_networks(model)
        out.append(contender)
    return out


def compile_networks(model: torch.nn.Module) -> dict:
    """``torch.compile`` each of the four networks in place (compiled on
    first use: the first step is the warm-up); returns the eager ones."""
    eager = {}
    for name in mmb.OURS_TO_MMAGIC:
        eager[name] = getattr(model, name)
        setattr(model, name, torch.compile(eager[name]))
    return eager


def count_flops(contender: Contender) -> int:
    """FLOPs of one training step (on a copy: weights stay untouched)."""
    from torch.utils.flop_counter import FlopCounterMode
    model = copy.deepcopy(contender.model)
    if contender.name.startswith('MMagic'):
        optim = mmb.make_optim_wrapper(model, LR, BETAS)
    else:
        optim = our_optim(model, 'fp32')
    with FlopCounterMode(display=False) as counter:
        model.train_step(contender.batch, optim)
    return counter.get_total_flops()
