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
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from benchmarks.speed_models import (  # noqa: E402
    BETAS,
    LR,
    build_mmagic,
    build_ours,
    checkpointing,
    log,
    networks,
    our_optim,
    random_images,
)
from benchmarks.speed_padding import pad_cost  # noqa: E402
from benchmarks.speed_timing import (  # noqa: E402
    conv_peak,
    data_share,
    optimiser_step,
    profile_step,
    time_inference,
    time_training,
)
from mm_cyclegan.engine.precision import cpu_bf16_support  # noqa: E402

TRAIN_MODES = ('fp32', 'bf16', 'channels_last', 'compile', 'bf16+compile',
               'with_cp', 'with_cp_all')
RSS_MODES = ('mmagic', 'fp32', 'with_cp', 'with_cp_all', 'bf16',
             'bf16+with_cp', 'bf16+with_cp_all')


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


def bf16_enabled(args) -> bool:
    """Measure bf16? Native bf16, or forced."""
    return cpu_bf16_support().native or args.force_bf16


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


def choose_modes(args) -> list:
    """Our training modes to time: the asked ones, or fp32, channels_last
    and (with native bf16) bf16; bf16 modes only if :func:`bf16_enabled`."""
    native = cpu_bf16_support().native
    modes = args.modes or (['fp32', 'channels_last'] +
                           (['bf16'] if native else []))
    if any('bf16' in m for m in modes) and not bf16_enabled(args):
        log('bf16 modes dropped: ' + cpu_bf16_support().detail +
            ' (--force-bf16 measures them anyway)')
        modes = [m for m in modes if 'bf16' not in m]
    if not native and not args.modes:
        log('bf16 not measured: ' + cpu_bf16_support().detail)
    return modes


def header_section(args, modes: list) -> list:
    """Title, machine and run settings."""
    lines = ['## Speed benchmark (`benchmarks/speed.py`)', ''] + machine()
    lines += [f'- modes: {", ".join(modes)}; {args.steps} timed steps '
              f'after {args.warmup} warm-up, medians; batch 1; '
              + ('tiny smoke networks' if args.smoke else
                 'ResNet-9 base 64 + PatchGAN 3 layers base 64'), '']
    return lines


def peak_section(modes: list) -> tuple[list, dict]:
    """The conv peak per dtype measured (bf16 only if a mode uses it)."""
    peaks = {'fp32': conv_peak(torch.float32, True)}
    if any('bf16' in m for m in modes):
        peaks['bf16'] = conv_peak(torch.bfloat16, cpu_bf16_support().native)
    lines = ['Conv peak (one 3x3 conv, no grad): ' + ', '.join(
        f'{k} {v:.1f} GFLOP/s' for k, v in peaks.items()), '']
    log(f'conv peak {peaks}')
    return lines, peaks


def training_section(args, modes: list, peaks: dict) -> tuple[list, list]:
    """The training-step table and its upper bounds; and the per-mode
    profiles (``--profile``) for the end of the report."""
    lines = ['### Training step', '',
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
    return lines + [''], profiles


def data_section(args) -> list:
    """The data-loading share per number of loader workers."""
    if not args.workers:
        return []
    lines = [f'### Data loading share (ours fp32, procedural data, '
             f'{args.data_size} px)', '',
             '| workers | wait s/iter | step s/iter | share |',
             '|---|---|---|---|']
    for workers in args.workers:
        wait, step = data_share(args, workers)
        lines.append(f'| {workers} | {wait:.4f} | {step:.3f} | '
                     f'{100 * wait / (wait + step):.1f} % |')
        log(f'data workers={workers}: wait {wait:.4f}s step {step:.3f}s')
    return lines + ['']


def rss_section(args, modes: list) -> list:
    """Peak RSS of a fresh 2-step training process per memory mode."""
    rss_modes = args.rss_modes
    if rss_modes is None:
        any_bf16 = any('bf16' in m for m in modes)
        rss_modes = [m for m in RSS_MODES
                     if 'bf16' not in m or any_bf16]
    if not rss_modes:
        return []
    lines = [f'### Peak RSS of a 2-step training process, '
             f'{args.rss_size} px',
             '', '| mode | peak RSS MB | vs MMagic |', '|---|---|---|']
    rss = {m: measure_rss(args, m) for m in rss_modes}
    for m, value in rss.items():
        ratio = (f'{value / rss["mmagic"]:.2f}' if value and
                 rss.get('mmagic') else '-')
        lines.append(f'| {m} | {value if value else "failed"} | '
                     f'{ratio} |')
        log(f'rss {m}: {value}')
    return lines + ['']


def optimiser_section(args) -> list:
    """Both Adams' step: torch's default loop against fused."""
    result = optimiser_step(args)
    slow = result['torch default (MMagic)']
    lines = ['### Optimiser step (both Adams, all four networks)', '',
             '| contender | s/step | default/this |', '|---|---|---|']
    lines += [f'| {name} | {seconds:.4f} | {slow / seconds:.2f} |'
              for name, seconds in result.items()]
    log(f'optimiser step: {result}')
    return lines + ['']


def padding_section(args) -> list:
    """The generator's reflection pads under bf16 autocast."""
    if not args.pad_sizes:
        return []
    lines = ['### Reflection padding under bf16 autocast (one '
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
    return lines + ['']


def inference_section(args, modes: list) -> list:
    """One generator's inference per image size."""
    if not args.infer_sizes:
        return []
    sizes = [min(s, 64) for s in args.infer_sizes][:1] if args.smoke \
        else args.infer_sizes
    lines = ['### Generator inference (one image)', '',
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
    return lines + ['']


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
    modes = choose_modes(args)
    lines = header_section(args, modes)
    peak_lines, peaks = peak_section(modes)
    train_lines, profiles = training_section(args, modes, peaks)
    lines += peak_lines + train_lines + data_section(args)
    lines += rss_section(args, modes) + optimiser_section(args)
    lines += padding_section(args) + inference_section(args, modes)
    report = '\n'.join(lines + profiles)
    print(report)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(report + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
