"""Reflection padding under bf16 autocast, for ``benchmarks/speed.py``:
torch's pad (an fp32 round trip) against ours (pads in bf16)."""
from __future__ import annotations

import statistics
import time
from contextlib import nullcontext

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.speed_models import networks


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
