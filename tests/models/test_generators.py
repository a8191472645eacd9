"""Tests of the registered generators and of their weight initialisation."""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

import mm_cyclegan  # noqa: F401  (applies the compat patches first)
import mm_cyclegan.models.generators as generators
from mm_cyclegan.models.generators import ResnetGenerator, UnetGenerator
from mm_cyclegan.models.generators._layers import resolve_norm_cfg
from mm_cyclegan.registry import MODELS

# Every registered generator, in small configurations that cover each
# option. Inputs are 64 x 96, so the U-Nets use num_down <= 5.
CONFIGS = [
    dict(type='ResnetGenerator', in_channels=3, out_channels=3,
         base_channels=8, num_blocks=2),
    dict(type='ResnetGenerator', in_channels=1, out_channels=3,
         base_channels=8, num_blocks=1, norm_cfg=dict(type='BN'),
         padding_mode='replicate', use_dropout=True,
         upsample_mode='resize_conv'),
    dict(type='ResnetGenerator', in_channels=4, out_channels=2,
         base_channels=4, num_blocks=0, norm_cfg=None, padding_mode='zeros'),
    dict(type='ResnetGenerator', in_channels=3, out_channels=3,
         base_channels=4, num_blocks=1, norm_cfg=dict(type='GN',
                                                      num_groups=2)),
    dict(type='ResnetGenerator', in_channels=3, out_channels=3,
         base_channels=4, num_blocks=2, with_cp=True, use_dropout=True,
         norm_cfg=dict(type='IN', affine=True)),
    dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=5,
         base_channels=4, use_dropout=True),
    dict(type='UnetGenerator', in_channels=3, out_channels=1, num_down=3,
         base_channels=8, norm_cfg=dict(type='IN')),
    dict(type='ResnetGenerator', in_channels=3, out_channels=3,
         base_channels=4, num_blocks=1, with_cp='all'),
    dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=3,
         base_channels=4, with_cp=True),
    dict(type='UnetGenerator', in_channels=2, out_channels=3, num_down=4,
         base_channels=4, norm_cfg=dict(type='none')),
]


def _ids(configs):
    return [f'{c["type"]}-{i}' for i, c in enumerate(configs)]


def _build(cfg):
    net = MODELS.build(cfg)
    net.init_weights()
    return net


def test_every_registered_generator_is_tested():
    registered = {
        name for name, cls in MODELS.module_dict.items()
        if cls.__module__.startswith(generators.__name__)
    }
    assert registered == {c['type'] for c in CONFIGS}


@pytest.mark.parametrize('cfg', CONFIGS, ids=_ids(CONFIGS))
def test_forward_shape_range_and_gradients(cfg):
    torch.manual_seed(0)
    net = _build(cfg)
    x = torch.rand(2, cfg['in_channels'], 64, 96) * 2 - 1
    out = net(x)
    assert out.shape == (2, cfg['out_channels'], 64, 96)
    assert torch.isfinite(out).all()
    assert out.abs().max() <= 1
    (out * torch.randn_like(out)).sum().backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        if param.dim() > 1:
            assert param.grad.abs().sum() > 0, name


def _count(net):
    return sum(p.numel() for p in net.parameters())


def test_resnet9_has_the_papers_parameter_count():
    # The paper's network (instance norm without affine, conv biases kept):
    # 11,378,179 parameters, as MMagic's ResnetGenerator and the reference.
    net = ResnetGenerator(3, 3, base_channels=64, num_blocks=9,
                          norm_cfg=dict(type='IN'))
    assert _count(net) == 11_378_179
    # With affine instance norm the convs keep their biases (MMagic's rule)
    # and each of the 23 norms adds a scale and a shift per channel.
    affine = ResnetGenerator(3, 3, norm_cfg=dict(type='IN', affine=True))
    norm_channels = 64 + 128 + 256 + 2 * 9 * 256 + 128 + 64
    assert _count(affine) == 11_378_179 + 2 * norm_channels


def test_default_norm_is_instance_norm_without_affine_or_stats():
    norms = [
        m for m in ResnetGenerator(3, 3, base_channels=4).modules()
        if isinstance(m, nn.modules.batchnorm._NormBase)
    ]
    assert len(norms) == 1 + 2 + 2 * 9 + 2  # c7, down, blocks, up
    for norm in norms:
        assert isinstance(norm, nn.InstanceNorm2d)
        assert not norm.affine and not norm.track_running_stats


@pytest.mark.parametrize('norm_cfg,expected', [
    (dict(type='IN'), dict(type='IN')),
    ('InstanceNorm2d', dict(type='IN')),
    # MMCV's own types are kept as written (MMagic's bias rule reads them).
    (dict(type='BN2d', momentum=0.2), dict(type='BN2d', momentum=0.2)),
    (dict(type='GN', num_groups=2), dict(type='GN', num_groups=2)),
    ('SyncBN', dict(type='SyncBN')),
    ('in2d', dict(type='IN')),
    ('batch', dict(type='BN')),
    (dict(type='none'), None),
    ('none', None),
    (None, None),
])
def test_norm_spellings(norm_cfg, expected):
    assert resolve_norm_cfg(norm_cfg) == expected


def test_resize_conv_has_the_same_parameter_count_as_deconv():
    def count(mode):
        net = ResnetGenerator(3, 3, base_channels=8, num_blocks=1,
                              upsample_mode=mode)
        return sum(p.numel() for p in net.parameters())

    assert count('resize_conv') == count('deconv')


# Equality with MMagic's networks (weights, outputs, initialisation):
# tests/models/test_mmagic_parity.py.


CHECKPOINTED = [
    (ResnetGenerator, dict(num_blocks=2), True),
    (ResnetGenerator, dict(num_blocks=2), 'blocks'),
    (ResnetGenerator, dict(num_blocks=2), 'all'),
    (UnetGenerator, dict(num_down=5), True),
]


@pytest.mark.parametrize('norm', ['IN', 'BN'])
@pytest.mark.parametrize('cls,kwargs,with_cp', CHECKPOINTED)
def test_gradient_checkpointing_changes_no_result(cls, kwargs, with_cp,
                                                  norm):
    """Output, gradients and norm running statistics equal the plain
    network's, dropout included (BatchNorm must not count the replay)."""
    kwargs = dict(kwargs, in_channels=3, out_channels=3, base_channels=4,
                  use_dropout=True, norm_cfg=dict(type=norm))
    plain = cls(**kwargs)
    plain.init_weights()
    checkpointed = cls(**kwargs, with_cp=with_cp)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 32, 32)
    results = []
    for net in (plain, checkpointed):
        torch.manual_seed(1)  # the same dropout masks in both networks
        out = net(x)
        out.square().mean().backward()
        results.append((out, [p.grad for p in net.parameters()],
                        dict(net.named_buffers())))
    torch.testing.assert_close(results[0][0], results[1][0])
    for grad_plain, grad_cp in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(grad_plain, grad_cp)
    assert results[0][2].keys() == results[1][2].keys()
    if norm == 'BN':
        assert any(k.endswith('num_batches_tracked') for k in results[0][2])
    for key, buffer in results[0][2].items():
        torch.testing.assert_close(buffer, results[1][2][key], msg=key)


def _saved_bytes(net: nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd keeps for the backward pass of ``net(x)``."""
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x).mean().backward()
    return total


def test_with_cp_all_keeps_less_than_blocks_which_keeps_less_than_none():
    kwargs = dict(in_channels=3, out_channels=3, base_channels=8,
                  num_blocks=3)
    x = torch.rand(1, 3, 64, 64)
    saved = {mode: _saved_bytes(ResnetGenerator(**kwargs, with_cp=mode), x)
             for mode in (False, 'blocks', 'all')}
    assert saved['all'] < saved['blocks'] < saved[False]
    # 'all' keeps the input (and the checkpoint's own bookkeeping) only.
    assert saved['all'] <= 2 * x.numel() * x.element_size()
    unet = UnetGenerator(3, 3, num_down=5, base_channels=4, with_cp=True)
    assert _saved_bytes(unet, x) <= 2 * x.numel() * x.element_size()


def test_with_cp_under_no_grad_runs_the_plain_forward():
    net = ResnetGenerator(3, 3, base_channels=4, num_blocks=1,
                          with_cp='all').eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)


@pytest.mark.parametrize('net,shape', [
    (ResnetGenerator(3, 3, base_channels=4, num_blocks=0), (1, 3, 30, 32)),
    (UnetGenerator(3, 3, num_down=4, base_channels=4), (1, 3, 32, 40)),
])
def test_input_size_not_divisible_is_rejected(net, shape):
    with pytest.raises(ValueError, match=str(shape[-2:])[1:-1]):
        net(torch.zeros(shape))


@pytest.mark.parametrize('cls,kwargs,error,match', [
    (ResnetGenerator, dict(num_blocks=-1), ValueError, '-1'),
    (ResnetGenerator, dict(num_blocks=2.5), TypeError, '2.5'),
    (ResnetGenerator, dict(norm_cfg=dict(type='XN')), ValueError, "'XN'"),
    (ResnetGenerator, dict(norm_cfg=3), TypeError, '3'),
    (ResnetGenerator, dict(padding_mode='circular'), ValueError,
     "'circular'"),
    (ResnetGenerator, dict(upsample_mode='bilinear'), ValueError,
     "'bilinear'"),
    (ResnetGenerator, dict(in_channels=0), ValueError, 'in_channels.*0'),
    (ResnetGenerator, dict(out_channels=-3), ValueError,
     'out_channels.*-3'),
    (ResnetGenerator, dict(base_channels=0), ValueError,
     'base_channels.*0'),
    (ResnetGenerator, dict(with_cp='yes'), ValueError, "'yes'"),
    (ResnetGenerator, dict(with_cp=1.5), TypeError, '1.5'),
    (UnetGenerator, dict(with_cp='blocks'), ValueError, "'blocks'"),
    (ResnetGenerator, dict(init_cfg=dict(type='uniform')), ValueError,
     "'uniform'"),
    (ResnetGenerator, dict(init_cfg=dict(type='normal', gain=-1)),
     ValueError, '-1'),
    (UnetGenerator, dict(num_down=1), ValueError, 'num_down.*1'),
    (UnetGenerator, dict(norm_cfg=dict(type='Conv')), ValueError,
     "'Conv'"),
    (UnetGenerator, dict(base_channels=-2), ValueError, '-2'),
    (UnetGenerator, dict(init_cfg=dict(type='Pretrained')), ValueError,
     'checkpoint'),
])
def test_invalid_config_names_the_value(cls, kwargs, error, match):
    args = dict(in_channels=3, out_channels=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        cls(**args)


# --------------------------------------------------------------------------
# weight initialisation


def _conv_weights(net):
    return [
        m.weight.detach() for m in net.modules()
        if isinstance(m, nn.modules.conv._ConvNd)
    ]


def test_default_init_is_the_papers():
    torch.manual_seed(0)
    net = _build(dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                      base_channels=16, num_blocks=2,
                      norm_cfg=dict(type='BN')))
    weights = torch.cat([w.flatten() for w in _conv_weights(net)])
    assert abs(weights.mean()) < 1e-3
    assert weights.std() == pytest.approx(0.02, rel=0.02)
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    norm_weights = torch.cat([m.weight.detach().flatten() for m in norms])
    assert norm_weights.mean() == pytest.approx(1.0, abs=0.01)
    assert norm_weights.std() == pytest.approx(0.02, rel=0.2)
    for name, param in net.named_parameters():
        if name.endswith('bias'):
            assert not param.any(), name


@pytest.mark.parametrize('init_type', ['xavier', 'kaiming', 'orthogonal'])
def test_other_init_types(init_type):
    torch.manual_seed(0)
    gain = 0.5
    net = _build(dict(type='UnetGenerator', in_channels=3, out_channels=3,
                      num_down=4, base_channels=16,
                      init_cfg=dict(type=init_type, gain=gain)))
    # The down conv of level 2: 32 -> 64 channels, 4 x 4 kernels.
    conv = net.model.model[1].model[1].model[0].conv
    w = conv.weight.detach()
    fan_in = w[0].numel()
    fan_out = w.shape[0] * w[0, 0].numel()
    if init_type == 'xavier':
        expected = gain * math.sqrt(2.0 / (fan_in + fan_out))
        assert w.std() == pytest.approx(expected, rel=0.1)
    elif init_type == 'kaiming':
        assert w.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.1)
    else:
        rows = w.flatten(1)
        torch.testing.assert_close(
            rows @ rows.T, gain**2 * torch.eye(rows.shape[0]),
            atol=1e-5, rtol=0)


def test_parent_init_weights_applies_the_scheme():
    """MMEngine's Runner calls init_weights on the top model only."""

    class Parent(BaseModule):

        def __init__(self):
            super().__init__()
            self.resnet = ResnetGenerator(3, 3, base_channels=16,
                                          num_blocks=1)
            self.unet = UnetGenerator(3, 3, num_down=4, base_channels=16)

    torch.manual_seed(0)
    parent = Parent()
    nets = (parent.resnet, parent.unet)
    for net in nets:
        # mmcv's ConvModule starts from kaiming init, wider than 0.02
        std = torch.cat([w.flatten() for w in _conv_weights(net)]).std()
        assert std > 0.025
    parent.init_weights()
    for net in nets:
        weights = torch.cat([w.flatten() for w in _conv_weights(net)])
        assert weights.std() == pytest.approx(0.02, rel=0.05)


def test_pretrained_init_loads_the_checkpoint(tmp_path):
    source = _build(dict(type='ResnetGenerator', in_channels=3,
                         out_channels=3, base_channels=4, num_blocks=1))
    path = tmp_path / 'generator.pth'
    torch.save(source.state_dict(), path)
    target = ResnetGenerator(
        3, 3, base_channels=4, num_blocks=1,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)


def _first_layout_name(key, num_down):
    """``key`` in our first U-Net layout: ``encoder.i`` was the down conv
    of level i, ``decoder.i.0`` its up conv (flat lists, no nesting)."""
    level, rest = 0, key[len('model.'):]
    while True:
        _, position, rest = rest.split('.', 2)
        if position == '1' and level < num_down - 1:
            level += 1  # the next level inwards
            continue
        if position == '0':
            return f'encoder.{level}.{rest}'
        return f'decoder.{level}.0.{rest}'


@pytest.mark.parametrize('num_down,norm_cfg', [(5, dict(type='BN')),
                                               (3, None)])
def test_unet_loads_checkpoints_of_the_first_layout(num_down, norm_cfg):
    kwargs = dict(in_channels=3, out_channels=2, num_down=num_down,
                  base_channels=4, norm_cfg=norm_cfg, use_dropout=True)
    torch.manual_seed(0)
    source = UnetGenerator(**kwargs)
    for value in source.state_dict().values():
        if value.is_floating_point():
            value.add_(torch.rand_like(value))
    old = {_first_layout_name(k, num_down): v
           for k, v in source.state_dict().items()}
    assert any(k.startswith('decoder.') for k in old)
    target = UnetGenerator(**kwargs)
    target.load_state_dict(old, strict=True)
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(target.eval()(x), source.eval()(x))


def test_with_cp_all_under_bf16_autocast_matches_the_plain_network():
    """The replay runs under the same autocast state (and our bf16 pads)."""
    kwargs = dict(in_channels=3, out_channels=3, base_channels=4,
                  num_blocks=1)
    plain = ResnetGenerator(**kwargs)
    plain.init_weights()
    checkpointed = ResnetGenerator(**kwargs, with_cp='all')
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.rand(1, 3, 16, 16)
    results = []
    for net in (plain, checkpointed):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = net(x)
        out.float().square().mean().backward()
        results.append((out, [p.grad for p in net.parameters()]))
    assert results[1][0].dtype == torch.bfloat16
    torch.testing.assert_close(results[0][0], results[1][0], rtol=0, atol=0)
    for grad_plain, grad_cp in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(grad_plain, grad_cp, rtol=0, atol=0)
