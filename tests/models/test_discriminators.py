"""Tests of the registered discriminators."""
import pytest
import torch
import torch.nn as nn

import mm_cyclegan  # noqa: F401  (applies the compat patches first)
import mm_cyclegan.models.discriminators as discriminators
from mm_cyclegan.models.discriminators import (
    PatchDiscriminator,
    PixelDiscriminator,
)
from mm_cyclegan.registry import MODELS

# Every registered discriminator, in small configurations covering each
# option, with the output size expected for an H x W input.
CONFIGS = [
    (dict(type='PatchDiscriminator', in_channels=3, base_channels=8),
     lambda h, w: (h // 8 - 2, w // 8 - 2)),
    (dict(type='PatchDiscriminator', in_channels=3, base_channels=4,
          num_conv=2, norm_cfg=dict(type='IN')),
     lambda h, w: (h // 4 - 2, w // 4 - 2)),
    (dict(type='PatchDiscriminator', in_channels=6, base_channels=4,
          num_conv=1, norm_cfg=dict(type='BN')),
     lambda h, w: (h // 2 - 2, w // 2 - 2)),
    (dict(type='PatchDiscriminator', in_channels=1, base_channels=2,
          num_conv=4, norm_cfg=None),
     lambda h, w: (h // 16 - 2, w // 16 - 2)),
    (dict(type='PixelDiscriminator', in_channels=3, base_channels=8),
     lambda h, w: (h, w)),
    (dict(type='PixelDiscriminator', in_channels=2, base_channels=4,
          norm_cfg=dict(type='BN')),
     lambda h, w: (h, w)),
    (dict(type='PixelDiscriminator', in_channels=2, base_channels=4,
          norm_cfg=dict(type='GN', num_groups=4)),
     lambda h, w: (h, w)),
]


def _ids(configs):
    return [f'{c["type"]}-{i}' for i, (c, _) in enumerate(configs)]


def test_every_registered_discriminator_is_tested():
    registered = {
        name for name, cls in MODELS.module_dict.items()
        if cls.__module__.startswith(discriminators.__name__)
    }
    assert registered == {c['type'] for c, _ in CONFIGS}


@pytest.mark.parametrize('cfg,out_size', CONFIGS, ids=_ids(CONFIGS))
def test_forward_shape_and_gradients(cfg, out_size):
    torch.manual_seed(0)
    net = MODELS.build(cfg)
    net.init_weights()
    x = torch.rand(2, cfg['in_channels'], 64, 96) * 2 - 1
    out = net(x)
    assert out.shape == (2, 1, *out_size(64, 96))
    assert torch.isfinite(out).all()
    # Logits, not probabilities: a sigmoid would keep them inside (0, 1).
    assert (out < 0).any()
    (out * torch.randn_like(out)).sum().backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        if param.dim() > 1:
            assert param.grad.abs().sum() > 0, name


def test_patchgan_has_the_papers_parameter_count():
    # The CycleGAN paper's 70 x 70 PatchGAN (instance norm): 2,764,737
    # parameters, as MMagic's with norm_cfg=dict(type='IN').
    net = PatchDiscriminator(3, base_channels=64, num_conv=3,
                             norm_cfg=dict(type='IN'))
    assert sum(p.numel() for p in net.parameters()) == 2_764_737
    # The default (batch norm, MMagic's and pix2pix's): the three normed
    # convs lose their biases (896) and the norms add 2 x 896.
    assert sum(p.numel() for p in PatchDiscriminator(3).parameters()) \
        == 2_764_737 + 896


def test_patchgan_default_norm_is_batch_norm_as_mmagics():
    norms = [m for m in PatchDiscriminator(3, base_channels=4).modules()
             if isinstance(m, nn.modules.batchnorm._NormBase)]
    assert len(norms) == 3
    assert all(type(m) is nn.BatchNorm2d for m in norms)


# Equality with MMagic's network (weights, outputs, initialisation):
# tests/models/test_mmagic_parity.py.


def _receptive_field(kernels_and_strides):
    """Input extent seen by one output unit of a stack of convs."""
    size = 1
    for kernel, stride in reversed(kernels_and_strides):
        size = (size - 1) * stride + kernel
    return size


def _measured_receptive_field(net, size):
    """Height and width of the input region one central output unit uses."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            # Positive weights, positive inputs: no gradient cancels out.
            nn.init.constant_(m.weight, 0.05)
            nn.init.zeros_(m.bias)
    x = torch.rand(1, net.model[0].conv.in_channels, size, size,
                   dtype=torch.float64) + 0.5
    x.requires_grad_(True)
    out = net.double()(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    support = x.grad[0].abs().sum(0) > 0
    rows = support.any(1).nonzero().flatten()
    cols = support.any(0).nonzero().flatten()
    # The support is one solid square, away from the borders.
    assert rows.min() > 0 and rows.max() < size - 1
    assert support[rows.min():rows.max() + 1,
                   cols.min():cols.max() + 1].all()
    return (int(rows.max() - rows.min() + 1),
            int(cols.max() - cols.min() + 1))


@pytest.mark.parametrize('num_conv', [1, 2, 3, 4])
def test_patchgan_receptive_field(num_conv):
    # num_conv stride-2 4x4 convs, then two stride-1 4x4 convs.
    expected = _receptive_field([(4, 2)] * num_conv + [(4, 1)] * 2)
    if num_conv == 3:
        assert expected == 70  # the paper's 70 x 70 PatchGAN
    net = PatchDiscriminator(1, base_channels=2, num_conv=num_conv,
                             norm_cfg=None)
    size = 2**num_conv * (expected // 2**num_conv + 4)
    assert _measured_receptive_field(net, size) == (expected, expected)


def test_pixelgan_judges_each_pixel_alone():
    net = PixelDiscriminator(1, base_channels=2, norm_cfg=None)
    assert _measured_receptive_field(net, 8) == (1, 1)


@pytest.mark.parametrize('cls,kwargs,error,match', [
    (PatchDiscriminator, dict(num_conv=0), ValueError, 'num_conv.*0'),
    (PatchDiscriminator, dict(num_conv='3'), TypeError, "'3'"),
    (PatchDiscriminator, dict(in_channels=0), ValueError,
     'in_channels.*0'),
    (PatchDiscriminator, dict(base_channels=-64), ValueError, '-64'),
    (PatchDiscriminator, dict(norm_cfg=dict(type='SN')), ValueError,
     "'SN'"),
    (PatchDiscriminator, dict(init_cfg=dict(type='normal', gain='0.1')),
     TypeError, "'0.1'"),
    (PixelDiscriminator, dict(base_channels=0), ValueError,
     'base_channels.*0'),
    (PixelDiscriminator, dict(norm_cfg=dict(type='GroupNorm')), ValueError,
     "'GroupNorm'"),
])
def test_invalid_config_names_the_value(cls, kwargs, error, match):
    args = dict(in_channels=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        cls(**args)
