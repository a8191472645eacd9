"""Building and training the two models of ``benchmarks/quality.py``
(ours and MMagic's share the architecture, schedule and seeds), and
scoring their test outputs."""
from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from typing import Callable, Optional

import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

import mm_cyclegan  # noqa: F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb

# The demo architecture (configs/cyclegan_demo.py) with transposed-conv
# upsampling, the only kind MMagic's ResnetGenerator has.
GENERATOR = dict(in_channels=3, out_channels=3, base_channels=16,
                 num_blocks=4, norm_cfg=dict(type='IN'), use_dropout=False,
                 padding_mode='reflect')
DISCRIMINATOR = dict(in_channels=3, base_channels=16, num_conv=2,
                     norm_cfg=dict(type='IN'))
BETAS = (0.5, 0.999)
POOL_SIZE, SWAP_PROB = 50, 0.5
CYCLE_WEIGHT, IDENTITY_WEIGHT = 10.0, 0.5


def log(message: str) -> None:
    """Progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def load_average() -> Optional[float]:
    """The 1-minute load average (``None`` where /proc is missing)."""
    try:
        with open('/proc/loadavg', encoding='ascii') as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def seed_everything(seed: int) -> None:
    """Seed every global RNG either model may draw from."""
    random.seed(seed)
    np.random.seed(seed)  # MMagic's GANImageBuffer uses np.random
    torch.manual_seed(seed)


def build_ours(seed: int) -> torch.nn.Module:
    """Our CycleGAN with the paper's N(0, 0.02) init drawn from ``seed``."""
    from mm_cyclegan.registry import MODELS

    cfg = dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', upsample_mode='deconv',
                           **GENERATOR),
        discriminator_b=dict(type='PatchDiscriminator', **DISCRIMINATOR),
        gan_loss=dict(type='GANLoss', gan_type='lsgan'),
        cycle_loss_a=dict(type='CycleConsistencyLoss',
                          loss_weight=CYCLE_WEIGHT),
        identity_weight=IDENTITY_WEIGHT)
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        model = MODELS.build(cfg)
    if not type(model).__module__.startswith('mm_cyclegan.'):
        raise RuntimeError(f'built {type(model)}, not our CycleGAN')
    torch.manual_seed(seed)
    # Per network: the parent's init_weights would log every parameter.
    for name in mmb.OURS_TO_MMAGIC:
        getattr(model, name).init_weights()
    return model


def build_our_optim(model: torch.nn.Module, lr: float):
    """``OptimWrapperDict(generators, discriminators)``, Adam."""
    from mm_cyclegan.engine import CycleGANOptimWrapperConstructor

    adam = dict(optimizer=dict(type='Adam', lr=lr, betas=BETAS))
    return CycleGANOptimWrapperConstructor(
        dict(generators=dict(adam), discriminators=dict(adam)))(model)


def lr_factor(step: int, iters: int, decay_start: float) -> float:
    """Constant, then linear decay to 0 at ``iters`` (closed form)."""
    begin = int(round(decay_start * iters))
    if step < begin or begin >= iters:
        return 1.0
    return (iters - step) / (iters - begin)


def train(name: str, model: torch.nn.Module, optim_wrapper,
          make_batch: Callable[[tuple], dict], batches: list[tuple],
          args: argparse.Namespace) -> dict:
    """Run ``model.train_step`` over ``batches``.

    Returns ``seconds`` (wall), ``cpu_seconds`` (process CPU time) and the
    1-minute load average sampled at every log line (``load``), because
    on a shared machine the wall time depends on the other jobs.

    The LR of both optimisers follows :func:`lr_factor`. MMagic reads the
    iteration from the current ``MessageHub``, so it is set for both, with
    the run's length (``max_iters``, read by an identity anneal).
    """
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', len(batches))
    base = {k: [g['lr'] for g in w.param_groups]
            for k, w in optim_wrapper.items()}
    model.train()
    sums: dict[str, float] = {}
    loads = [load_average()]
    cpu_start = time.process_time()
    start = last = time.perf_counter()
    for step, batch in enumerate(batches):
        factor = lr_factor(step, args.iters, args.decay_start)
        for key, wrapper in optim_wrapper.items():
            for group, lr in zip(wrapper.param_groups, base[key]):
                group['lr'] = lr * factor
        hub.update_info('iter', step)
        log_vars = model.train_step(make_batch(batch), optim_wrapper)
        for key, value in log_vars.items():
            if 'loss' in key:
                sums[key] = sums.get(key, 0.0) + float(
                    torch.as_tensor(value).detach())
        done = step + 1
        if done % args.log_interval == 0 or done == len(batches):
            count = done % args.log_interval or args.log_interval
            now = time.perf_counter()
            losses = ' '.join(f'{k}={v / count:.3f}'
                              for k, v in sorted(sums.items()))
            log(f'[{name}] iter {done}/{len(batches)} '
                f'lr={args.lr * factor:.2e} '
                f'{(now - last) / count:.3f} s/iter  {losses}')
            sums, last = {}, now
            loads.append(load_average())
    loads = [x for x in loads if x is not None]
    return dict(seconds=time.perf_counter() - start,
                cpu_seconds=time.process_time() - cpu_start,
                load=(min(loads), max(loads)) if loads else None)


def warm_up(model: torch.nn.Module, make_optim: Callable,
            make_batch: Callable[[tuple], dict], batches: list[tuple]
            ) -> None:
    """A few steps on a throwaway copy, so that one-off start-up costs
    (allocator, kernel selection) are not charged to either timing."""
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', len(batches))
    scratch = copy.deepcopy(model)
    optim_wrapper = make_optim(scratch)
    scratch.train()
    for step, batch in enumerate(batches):
        hub.update_info('iter', step)
        scratch.train_step(make_batch(batch), optim_wrapper)


def score(outputs: list[tuple[dict, list]]) -> tuple[dict, int]:
    """Mean paired metrics over ``(batch, outputs)`` pairs, and the
    number of samples scored."""
    from mm_cyclegan.evaluation import PairedTranslationMetric

    metric = PairedTranslationMetric()
    for batch, samples in outputs:
        metric.process(batch, samples)
    return metric.compute_metrics(metric.results), len(metric.results)
