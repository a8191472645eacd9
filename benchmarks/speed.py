"""Training and inference speed: ours in each mode vs MMagic 1.2.0's CycleGAN.

The paper's networks (ResNet-9 base 64, 70x70 PatchGAN: 3 strided layers,
base 64), batch 1, at 128 and 256 px. Everything is timed in ONE process,
interleaved step by step (the order rotates every round), so that load from
other jobs on a shared machine hits every contender alike; medians of
``--steps`` steps after ``--warmup`` steps. Reported per contender:
s/iteration, MMagic/ours ratio, achieved GFLOP/s (step FLOPs counted once
with ``torch.utils.flop_counter``) as a fraction of this CPU's conv peak
(measured here with one large 3x3 conv in fp32 and bf16), peak RSS of a
separate 2-step training process, the data-loading share of a step with
0/1/2 loader workers, and one generator's inference at 256/512/1024 px.

    python benchmarks/speed.py            # full run, <= 20 min on 2 idle cores
    python benchmarks/speed.py --sizes 128 --steps 5 --out speed.md
    python benchmarks/speed.py --modes fp32 bf16 compile   # opt-in compile

Modes of ours: ``fp32``; ``bf16`` (``MixedPrecisionOptimWrapper``; measured
by default only on CPUs with native bf16, ``--force-bf16`` otherwise);
``channels_last`` (fp32, NHWC tensors); ``compile`` and ``bf16+compile``
(``torch.compile`` of the four networks; the first step's time is reported
as warm-up);
``with_cp`` (the generators' residual blocks checkpointed) and
``with_cp_all`` (each generator checkpointed as a whole), timed only when
asked for (``--modes fp32 with_cp with_cp_all``) and always in the memory
table.
"""
from __future__ import annotations

import argparse
import copy
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from typing import Callable, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from mm_cyclegan.engine.precision import cpu_bf16_support  # noqa: E402

PAPER_GENERATOR = dict(in_channels=3, out_channels=3, base_channels=64,
                       num_blocks=9, norm_cfg=dict(type='IN'),
                       use_dropout=False, padding_mode='reflect')
PAPER_DISCRIMINATOR = dict(in_channels=3, base_channels=64, num_conv=3,
                           norm_cfg=dict(type='IN'))
# --smoke: the same code paths on tiny networks and images (seconds).
SMOKE_GENERATOR = dict(PAPER_GENERATOR, base_channels=4, num_blocks=1)
SMOKE_DISCRIMINATOR = dict(PAPER_DISCRIMINATOR, base_channels=4, num_conv=2)
TRAIN_MODES = ('fp32', 'bf16', 'channels_last', 'compile', 'bf16+compile',
               'with_cp', 'with_cp_all')
RSS_MODES = ('mmagic', 'fp32', 'with_cp', 'with_cp_all', 'bf16',
             'bf16+with_cp', 'bf16+with_cp_all')
BETAS, LR = (0.5, 0.999), 2e-4


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f'[speed {time.strftime("%H:%M:%S")}] {message}', file=sys.stderr,
          flush=True)


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    p.add_argument('--steps', type=int, default=5,
                   help='timed training steps per contender and size')
    p.add_argument('--warmup', type=int, default=1,
                   help='untimed steps first (compile: its warm-up)')
    p.add_argument('--modes', nargs='+', default=None, choices=TRAIN_MODES,
                   help='our training modes (default: fp32, channels_last, '
                   'and bf16 when the CPU has native bf16)')
    p.add_argument('--force-bf16', action='store_true',
                   help='measure bf16 even without native bf16 (slow)')
    p.add_argument('--infer-sizes', type=int, nargs='*',
                   default=[256, 512, 1024])
    p.add_argument('--infer-reps', type=int, default=3)
    p.add_argument('--workers', type=int, nargs='*', default=[0, 1, 2],
                   help='loader workers for the data-loading share')
    p.add_argument('--data-size', type=int, default=128)
    p.add_argument('--data-steps', type=int, default=4)
    p.add_argument('--rss-size', type=int, default=256)
    p.add_argument('--rss-modes', nargs='*', default=None,
                   choices=RSS_MODES, help='default: all that apply')
    p.add_argument('--pad-sizes', type=int, nargs='*', default=[256],
                   help='time the generator pads under bf16 autocast')
    p.add_argument('--profile', action='store_true',
                   help='top ops by self CPU time of one step per mode at '
                   'the largest size')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--smoke', action='store_true',
                   help='tiny networks (for the test suite)')
    p.add_argument('--out', help='also write the Markdown report here')
    p.add_argument('--rss-child', help=argparse.SUPPRESS)
    return p.parse_args(argv)


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


def bf16_enabled(args) -> bool:
    """Measure bf16? Native bf16, or forced."""
    return cpu_bf16_support().native or args.force_bf16


# ----------------------------------------------------------------- builds
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


# ----------------------------------------------------------- measurements
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


def rss_child(mode: str, size: int, smoke: bool) -> int:
    """Entry of the child process: 2 training steps, print peak RSS."""
    args = argparse.Namespace(smoke=smoke)
    generator, discriminator = networks(args)
    ours = build_ours(generator, discriminator,
                      with_cp=checkpointing(mode))
    img_a, img_b = random_images(size)
    if mode == 'mmagic':
        model = build_mmagic(generator, discriminator, ours)
        del ours
        optim = mmb.make_optim_wrapper(model, LR, BETAS)
        batch = mmb.to_mmagic_batch(img_a, img_b)
    else:
        model, optim = ours, our_optim(ours, mode)
        batch = dict(img_a=img_a, img_b=img_b)
    for _ in range(2):
        model.train_step(batch, optim)
    print(f'PEAK_RSS_MB {peak_rss_mb():.0f}', flush=True)
    return 0


def peak_rss_mb() -> float:
    """Peak RSS of this process since its exec, in MB.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child started by a
    large parent would report the parent's peak; ``VmHWM`` of
    ``/proc/self/status`` belongs to the exec'd process alone.
    """
    try:
        with open('/proc/self/status', encoding='utf-8') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_rss(args, mode: str) -> Optional[float]:
    """Peak RSS (MB) of a fresh 2-step training process in ``mode``."""
    cmd = [sys.executable, osp.abspath(__file__), '--rss-child', mode,
           '--rss-size', str(args.rss_size)] + (['--smoke'] if args.smoke
                                                else [])
    result = subprocess.run(cmd, capture_output=True, text=True,
                            timeout=3600)
    for line in result.stdout.splitlines():
        if line.startswith('PEAK_RSS_MB'):
            return float(line.split()[1])
    log(f'RSS child {mode} failed:\n{result.stderr[-2000:]}')
    return None


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


def pad_shapes(args, size: int) -> list:
    """(input shape, padding, input is bf16 under autocast) of every padding
    layer of one generator pass at ``size`` (read off an fp32 pass: under
    bf16 autocast only the first pad, of the fp32 image, sees fp32)."""
    from mm_cyclegan.models.generators import ResnetGenerator
    generator, _ = networks(args)
    net = ResnetGenerator(**generator).eval()
    found: list = []
    pads = [m.padding_layer for m in net.modules()
            if getattr(m, 'padding_layer', None) is not None]
    handles = [p.register_forward_pre_hook(
        lambda module, inputs: found.append(
            (tuple(inputs[0].shape), module.padding, bool(found))))
        for p in pads]
    with torch.no_grad():
        net(torch.zeros(1, generator['in_channels'], size, size))
    for handle in handles:
        handle.remove()
    return found


class _CastCounter(TorchDispatchMode):
    """Counts dtype casts (``aten._to_copy``) between bf16 and fp32."""

    def __init__(self) -> None:
        super().__init__()
        self.casts = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten._to_copy.default and \
                args[0].dtype != out.dtype:
            self.casts += 1
        return out


def pad_cost(args, size: int, reps: int = 5) -> dict:
    """Seconds of one generator pass's reflection pads (forward and
    backward) under bf16 autocast: torch's pad (fp32 round trip: cast up,
    pad in fp32, and the conv casts back) vs ours (pad in bf16)."""
    from mm_cyclegan.models.generators._padding import ReflectionPad2d
    shapes = pad_shapes(args, size)
    times: dict = {'torch pad (fp32 round trip)': [], 'ours (bf16)': []}
    casts: dict = {name: 0 for name in times}
    for shape, padding, bf16_input in shapes:
        dtype = torch.bfloat16 if bf16_input else torch.float32
        x = torch.randn(shape).to(dtype).requires_grad_()
        for name, layer in (('torch pad (fp32 round trip)',
                             torch.nn.ReflectionPad2d(padding)),
                            ('ours (bf16)', ReflectionPad2d(padding))):
            samples = []
            for r in range(reps + 1):
                counter = _CastCounter() if r == 0 else nullcontext()
                tic = time.perf_counter()
                with counter:
                    with torch.autocast('cpu', dtype=torch.bfloat16):
                        # .bfloat16() is what the next conv's autocast does.
                        y = layer(x).bfloat16()
                    y.backward(torch.ones_like(y))
                if r:
                    samples.append(time.perf_counter() - tic)
                else:
                    casts[name] += counter.casts
                x.grad = None
            times[name].append(statistics.median(samples))
    return {name: (sum(v), casts[name], len(shapes))
            for name, v in times.items()}


# ----------------------------------------------------------------- report
def machine() -> list:
    """What the run ran on."""
    model = platform.processor() or 'unknown CPU'
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             timeout=10).stdout
        for line in out.splitlines():
            if line.startswith('Model name:'):
                model = line.split(':', 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    return [f'- CPU: {model}, {os.cpu_count()} logical CPUs, '
            f'{torch.get_num_threads()} intra-op threads; '
            f'{cpu_bf16_support().detail}',
            f'- torch {torch.__version__}; load average at start '
            f'{load[0]:.1f}' if load else '- load average unknown']


def main(argv: Optional[list] = None) -> int:
    """Run the benchmark and print the Markdown report."""
    args = parse_args(argv)
    # MMagic's train_step reads the iteration from the message hub.
    MessageHub.get_current_instance().update_info('iter', 0)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.rss_child:
        return rss_child(args.rss_child, args.rss_size, args.smoke)
    if args.smoke:
        args.sizes = [min(s, 32) for s in args.sizes][:1]
    native = cpu_bf16_support().native
    modes = args.modes or (['fp32', 'channels_last'] +
                           (['bf16'] if native else []))
    if any('bf16' in m for m in modes) and not bf16_enabled(args):
        log('bf16 modes dropped: ' + cpu_bf16_support().detail +
            ' (--force-bf16 measures them anyway)')
        modes = [m for m in modes if 'bf16' not in m]
    any_bf16 = any('bf16' in m for m in modes)
    if not native and not args.modes:
        log('bf16 not measured: ' + cpu_bf16_support().detail)
    lines = ['## Speed benchmark (`benchmarks/speed.py`)', ''] + machine()
    lines += [f'- modes: {", ".join(modes)}; {args.steps} timed steps '
              f'after {args.warmup} warm-up, medians; batch 1; '
              + ('tiny smoke networks' if args.smoke else
                 'ResNet-9 base 64 + PatchGAN 3 layers base 64'), '']

    peaks = {'fp32': conv_peak(torch.float32, True)}
    if any_bf16:
        peaks['bf16'] = conv_peak(torch.bfloat16, native)
    lines.append('Conv peak (one 3x3 conv, no grad): ' + ', '.join(
        f'{k} {v:.1f} GFLOP/s' for k, v in peaks.items()))
    lines.append('')
    log(f'conv peak {peaks}')

    lines += ['### Training step', '',
              '| size | contender | s/iter | MMagic/ours | first step s '
              '| GFLOP/step | GFLOP/s | % of conv peak |',
              '|---|---|---|---|---|---|---|---|']
    profiles, bounds = [], []
    # The ceiling any mode can reach: every FLOP at the fastest peak.
    best_dtype = max(peaks, key=peaks.get)
    for size in args.sizes:
        contenders = time_training(args, size, modes)
        mmagic = statistics.median(contenders[0].times)
        floor = contenders[0].flops / (peaks[best_dtype] * 1e9)
        bounds.append(f'- {size} px: the step\'s FLOPs at the '
                      f'{best_dtype} conv peak take '
                      f'{floor:.3f} s, so MMagic/ours can be at most '
                      f'{mmagic / floor:.2f} on this CPU')
        for c in contenders:
            median = statistics.median(c.times)
            rate = c.flops / median / 1e9
            lines.append(
                f'| {size} | {c.name} | {median:.3f} | '
                f'{mmagic / median:.2f} | {c.first:.2f} | '
                f'{c.flops / 1e9:.5g} | {rate:.1f} | '
                f'{100 * rate / peaks[c.peak_dtype]:.0f} % |')
        if args.profile and size == max(args.sizes):
            for c in contenders:
                profiles += [f'#### {c.name}, {size} px', '', '```',
                             profile_step(c), '```', '']
        del contenders
    lines += ['', 'Upper bound (same FLOPs, all at peak):', ''] + bounds
    lines.append('')

    if args.workers:
        lines += [f'### Data loading share (ours fp32, procedural data, '
                  f'{args.data_size} px)', '',
                  '| workers | wait s/iter | step s/iter | share |',
                  '|---|---|---|---|']
        for workers in args.workers:
            wait, step = data_share(args, workers)
            lines.append(f'| {workers} | {wait:.4f} | {step:.3f} | '
                         f'{100 * wait / (wait + step):.1f} % |')
            log(f'data workers={workers}: wait {wait:.4f}s step {step:.3f}s')
        lines.append('')

    rss_modes = args.rss_modes
    if rss_modes is None:
        rss_modes = [m for m in RSS_MODES
                     if 'bf16' not in m or any_bf16]
    if rss_modes:
        lines += [f'### Peak RSS of a 2-step training process, '
                  f'{args.rss_size if not args.smoke else args.rss_size} px',
                  '', '| mode | peak RSS MB | vs MMagic |', '|---|---|---|']
        rss = {m: measure_rss(args, m) for m in rss_modes}
        for m, value in rss.items():
            ratio = (f'{value / rss["mmagic"]:.2f}' if value and
                     rss.get('mmagic') else '-')
            lines.append(f'| {m} | {value if value else "failed"} | '
                         f'{ratio} |')
            log(f'rss {m}: {value}')
        lines.append('')

    result = optimiser_step(args)
    slow = result['torch default (MMagic)']
    lines += ['### Optimiser step (both Adams, all four networks)', '',
              '| contender | s/step | default/this |', '|---|---|---|']
    lines += [f'| {name} | {seconds:.4f} | {slow / seconds:.2f} |'
              for name, seconds in result.items()]
    lines.append('')
    log(f'optimiser step: {result}')

    if args.pad_sizes:
        lines += ['### Reflection padding under bf16 autocast (one '
                  'generator pass, forward + backward)', '',
                  'CPU autocast runs `reflection_pad2d` in fp32. Our '
                  'generators pad in the input\'s dtype instead (same '
                  'values, no casts). A training step runs 6 generator '
                  'passes.', '',
                  '| size | pads | contender | s/pass | casts/pass | '
                  'torch/ours |', '|---|---|---|---|---|---|']
        for size in ([32] if args.smoke else args.pad_sizes):
            result = pad_cost(args, size)
            slow = result['torch pad (fp32 round trip)'][0]
            for name, (seconds, casts, count) in result.items():
                lines.append(f'| {size} | {count} | {name} | '
                             f'{seconds:.4f} | {casts} | '
                             f'{slow / seconds:.2f} |')
            log(f'pads {size}: {result}')
        lines.append('')

    if args.infer_sizes:
        sizes = [min(s, 64) for s in args.infer_sizes][:1] if args.smoke \
            else args.infer_sizes
        lines += ['### Generator inference (one image)', '',
                  '| size | contender | s/image | MMagic/ours | '
                  'bf16 vs fp32 PSNR dB |', '|---|---|---|---|---|']
        for size in sizes:
            result = time_inference(args, size, modes)
            mmagic = result['MMagic 1.2.0']
            for name, seconds in result.items():
                if name == 'bf16_psnr':
                    continue
                psnr = (f'{result["bf16_psnr"]:.1f}' if name == 'ours bf16'
                        else '')
                lines.append(f'| {size} | {name} | {seconds:.3f} | '
                             f'{mmagic / seconds:.2f} | {psnr} |')
            log(f'inference {size}: {result}')
        lines.append('')
    lines += profiles
    report = '\n'.join(lines)
    print(report)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(report + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
