"""Padding layers that keep bf16 under CPU autocast (``_padding.py``)."""
from __future__ import annotations

import copy
from collections import Counter

import pytest
import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from mm_cyclegan.models.generators import ResnetGenerator
from mm_cyclegan.models.generators._padding import (
    ReflectionPad2d,
    ReplicationPad2d,
)

PADS = {'reflect': (ReflectionPad2d, nn.ReflectionPad2d),
        'replicate': (ReplicationPad2d, nn.ReplicationPad2d)}


class _RecordOps(TorchDispatchMode):
    """Counts aten ops and the input dtypes of the padding ops."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter = Counter()
        self.pad_dtypes: list = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        self.ops[name] += 1
        if name.endswith('pad2d'):
            self.pad_dtypes.append(args[0].dtype)
        return func(*args, **(kwargs or {}))


def _with_torch_pads(generator: nn.Module) -> nn.Module:
    """A copy of ``generator`` with plain torch padding layers (the old
    behaviour: fp32 round trip under autocast)."""
    plain = copy.deepcopy(generator)
    for module in plain.modules():
        pad = getattr(module, 'padding_layer', None)
        for ours, theirs in PADS.values():
            if type(pad) is ours:
                module.padding_layer = theirs(pad.padding)
    return plain


def _generator(padding_mode: str) -> ResnetGenerator:
    torch.manual_seed(0)
    return ResnetGenerator(3, 3, base_channels=8, num_blocks=2,
                           padding_mode=padding_mode).train()


def _forward_backward(net: nn.Module, x: torch.Tensor):
    """Output and input/parameter gradients of a bf16-autocast pass."""
    x = x.clone().requires_grad_()
    net.zero_grad()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = net(x)
    out.float().square().mean().backward()
    return out, x.grad, [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize('padding_mode', ['reflect', 'replicate'])
def test_generator_builds_the_dtype_keeping_pads(padding_mode):
    ours, theirs = PADS[padding_mode]
    pads = [m.padding_layer for m in _generator(padding_mode).modules()
            if getattr(m, 'padding_layer', None) is not None]
    # 7x7 in, 2 per residual block, 7x7 out
    assert len(pads) == 6
    assert all(type(p) is ours and isinstance(p, theirs) for p in pads)


@pytest.mark.parametrize('padding_mode', ['reflect', 'replicate'])
def test_bf16_autocast_pads_in_bf16_with_identical_forward(padding_mode):
    net = _generator(padding_mode)
    plain = _with_torch_pads(net)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with _RecordOps() as ours_ops:
        out, grad_x, grads = _forward_backward(net, x)
    with _RecordOps() as plain_ops:
        out_plain, grad_x_plain, grads_plain = _forward_backward(plain, x)
    # Padding copies values: the forward is bit-identical.
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, out_plain)
    # Every pad after the first (the fp32 image) now runs in bf16; with
    # torch's pads every one of them ran in fp32.
    forward_pads = [d for d in ours_ops.pad_dtypes]
    assert forward_pads[0] == torch.float32
    assert set(forward_pads[1:]) == {torch.bfloat16}
    assert set(plain_ops.pad_dtypes) == {torch.float32}
    # Each of the 5 bf16 pads saved a cast before and after it, forward
    # and backward.
    saved = plain_ops.ops['_to_copy'] - ours_ops.ops['_to_copy']
    assert saved >= 2 * 5
    # Backward: the border gradient sums happen in bf16 instead of fp32,
    # so gradients agree to bf16 rounding, not bitwise.
    torch.testing.assert_close(grad_x, grad_x_plain, rtol=2e-2, atol=1e-4)
    for ours_grad, plain_grad in zip(grads, grads_plain):
        torch.testing.assert_close(ours_grad, plain_grad, rtol=5e-2,
                                   atol=1e-3)


def test_fp32_and_no_autocast_paths_are_torch_pads():
    net = _generator('reflect')
    plain = _with_torch_pads(net)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(net(x), plain(x))
    # bf16 weights and input without autocast: torch's own bf16 pad.
    assert torch.equal(net.bfloat16()(x.bfloat16()),
                       plain.bfloat16()(x.bfloat16()))
    assert list(net.state_dict()) == list(plain.state_dict())
