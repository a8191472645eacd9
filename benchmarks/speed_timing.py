"""The timed measurements of ``benchmarks/speed.py``: conv peak, training
steps interleaved across contenders, data-loading share, generator
inference and the optimiser step."""
from __future__ import annotations

import copy
import statistics
import time
from typing import Callable

import torch
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

from benchmarks import mmagic_baseline as mmb
from benchmarks.speed_models import (
    BETAS,
    LR,
    Contender,
    build_mmagic,
    build_ours,
    count_flops,
    log,
    make_contenders,
    networks,
    our_optim,
    random_images,
)


def conv_peak(dtype: torch.dtype, native: bool) -> float:
    """GFLOP/s of one large 3x3 conv (no grad), median of 5 after 2."""
    channels, size = (256, 64) if native else (64, 32)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1,
                           bias=False).to(dtype)
    x = torch.randn(1, channels, size, size, dtype=dtype)
    flops = 2 * channels * channels * 9 * size * size
    times = []
    with torch.no_grad():
        for i in range(7):
            tic = time.perf_counter()
            conv(x)
            if i >= 2:
                times.append(time.perf_counter() - tic)
    return flops / statistics.median(times) / 1e9


def time_training(args, size: int, modes: list) -> list:
    """Interleaved, rotating-order training steps of every contender."""
    contenders = make_contenders(args, size, modes)
    hub = MessageHub.get_current_instance()
    for c in contenders:
        # Same step FLOPs compiled or not; a compiled copy would compile.
        c.flops = count_flops(c) if not c.eager else None
    for c in contenders:
        c.flops = c.flops or contenders[0].flops
    rounds = args.warmup + args.steps
    for r in range(rounds):
        hub.update_info('iter', r)
        shift = r % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            seconds = c.step()
            if r == 0:
                c.first = seconds
            if r >= args.warmup:
                c.times.append(seconds)
        log(f'{size} px round {r + 1}/{rounds}: ' + ', '.join(
            f'{c.name} {c.times[-1] if c.times else c.first:.2f}s'
            for c in contenders))
    return contenders


def profile_step(contender: Contender, rows: int = 10) -> str:
    """Top ops by self CPU time of one step."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        contender.step()
    return prof.key_averages().table(sort_by='self_cpu_time_total',
                                     row_limit=rows)


def data_share(args, workers: int) -> tuple:
    """(wait, step) seconds per iteration with ``workers`` loader workers:
    procedural 2-domain samples at ``--data-size``, ours fp32."""
    from torch.utils.data import DataLoader, default_collate

    from mm_cyclegan.datasets import UnpairedEpochSampler
    from mm_cyclegan.registry import DATASETS
    generator, discriminator = networks(args)
    model = build_ours(generator, discriminator)
    optim = our_optim(model, 'fp32')
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        dataset = DATASETS.build(dict(
            type='ProceduralLandscapeDataset', split='train',
            num_samples=args.data_steps + 2, size=args.data_size, seed=0))
    loader = DataLoader(dataset, batch_size=1,
                        sampler=UnpairedEpochSampler(dataset, seed=0),
                        collate_fn=default_collate, num_workers=workers)
    waits, steps = [], []
    it = iter(loader)
    for i in range(args.data_steps + 1):
        tic = time.perf_counter()
        batch = next(it)
        mid = time.perf_counter()
        model.train_step(batch, optim)
        if i:  # the first wait includes starting the workers
            waits.append(mid - tic)
            steps.append(time.perf_counter() - mid)
    del it
    return statistics.median(waits), statistics.median(steps)


@torch.no_grad()
def time_inference(args, size: int, modes: list) -> dict:
    """One generator (a2b), eval mode, interleaved medians; and the bf16
    output's PSNR against the fp32 output."""
    generator, discriminator = networks(args)
    ours = build_ours(generator, discriminator)
    theirs = build_mmagic(generator, discriminator, ours)
    x, _ = random_images(size)
    runs: dict[str, Callable] = {
        'MMagic 1.2.0': lambda: theirs.generators[mmb.DOMAIN_B](x.flip(1))}
    net = ours.generator_a2b.eval()
    theirs.eval()
    runs['ours fp32'] = lambda: net(x)
    if 'bf16' in modes:
        def bf16():
            with torch.autocast('cpu', dtype=torch.bfloat16):
                return net(x)
        runs['ours bf16'] = bf16
    if 'channels_last' in modes:
        net_cl = copy.deepcopy(net).to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        runs['ours channels_last'] = lambda: net_cl(x_cl)
    times: dict[str, list] = {k: [] for k in runs}
    outputs = {}
    names = list(runs)
    for r in range(args.infer_reps + 1):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            tic = time.perf_counter()
            outputs[name] = runs[name]()
            if r:
                times[name].append(time.perf_counter() - tic)
    result = {k: statistics.median(v) for k, v in times.items()}
    if 'ours bf16' in outputs:
        from mm_cyclegan.evaluation.functional import psnr
        result['bf16_psnr'] = float(psnr(outputs['ours bf16'].float(),
                                         outputs['ours fp32'],
                                         data_range=2.0).mean())
    return result


def optimiser_step(args, reps: int = 5) -> dict:
    """Seconds of one step of both Adams (generators + discriminators):
    torch's default per-parameter loop (MMagic's) vs fused (ours)."""
    generator, discriminator = networks(args)
    model = build_ours(generator, discriminator)
    params = list(model.parameters())
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    optimisers = {
        'torch default (MMagic)': torch.optim.Adam(params, lr=LR,
                                                    betas=BETAS),
        'fused (ours)': torch.optim.Adam(params, lr=LR, betas=BETAS,
                                         fused=True)}
    times: dict = {name: [] for name in optimisers}
    for r in range(reps + 1):
        for name, optimiser in optimisers.items():
            tic = time.perf_counter()
            optimiser.step()
            if r:
                times[name].append(time.perf_counter() - tic)
    return {name: statistics.median(v) for name, v in times.items()}
