"""Small fixtures for the inference tests: foreign layouts and checkpoints.

The reference implementation's (junyanz) networks are rebuilt here from the
layer description in its source (nn.Sequential indices, module names), with
random weights, so converter tests need no download.
"""
from __future__ import annotations

import torch
from mmengine.config import Config
from torch import nn

from mm_cyclegan.models.generators.resnet import ResnetGenerator


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == 'batch':
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=False,
                             track_running_stats=False)


class JunyanzResnetBlock(nn.Module):
    """``conv_block = [pad, conv, norm, relu, (dropout), pad, conv, norm]``."""

    def __init__(self, dim: int, norm: str, dropout: bool) -> None:
        super().__init__()
        bias = norm == 'instance'
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias),
                  _norm(norm, dim), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias),
                   _norm(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class JunyanzResnet(nn.Module):
    """The reference ResnetGenerator's ``model`` Sequential."""

    def __init__(self, in_nc: int, out_nc: int, ngf: int = 8,
                 n_blocks: int = 2, dropout: bool = False,
                 norm: str = 'instance') -> None:
        super().__init__()
        bias = norm == 'instance'
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, ngf, 7, bias=bias),
                  _norm(norm, ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2**i
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2,
                                 padding=1, bias=bias),
                       _norm(norm, ngf * mult * 2), nn.ReLU(True)]
        for _ in range(n_blocks):
            layers.append(JunyanzResnetBlock(ngf * 4, norm, dropout))
        for i in range(2):
            mult = 2**(2 - i)
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3,
                                          stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       _norm(norm, ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_nc, 7),
                   nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class JunyanzUnetBlock(nn.Module):
    """``UnetSkipConnectionBlock``: ``model`` Sequential, skip by concat."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None,
                 outermost=False, innermost=False, norm='batch'):
        super().__init__()
        self.outermost = outermost
        bias = norm == 'instance'
        input_nc = outer_nc if input_nc is None else input_nc
        down = nn.Conv2d(input_nc, inner_nc, 4, 2, 1, bias=bias)
        if outermost:
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1)
            layers = [down, submodule, nn.ReLU(True), up, nn.Tanh()]
        elif innermost:
            up = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up,
                      _norm(norm, outer_nc)]
        else:
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1,
                                    bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, _norm(norm, inner_nc),
                      submodule, nn.ReLU(True), up, _norm(norm, outer_nc)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class JunyanzUnet(nn.Module):
    """The reference UnetGenerator (``unet_256``: 8 downs, ``_128``: 7)."""

    def __init__(self, in_nc, out_nc, num_downs, ngf=4, norm='batch'):
        super().__init__()
        block = JunyanzUnetBlock(ngf * 8, ngf * 8, innermost=True,
                                 norm=norm)
        for _ in range(num_downs - 5):
            block = JunyanzUnetBlock(ngf * 8, ngf * 8, submodule=block,
                                     norm=norm)
        block = JunyanzUnetBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = JunyanzUnetBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = JunyanzUnetBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = JunyanzUnetBlock(out_nc, ngf, input_nc=in_nc,
                                      submodule=block, outermost=True,
                                      norm=norm)

    def forward(self, x):
        return self.model(x)


class JunyanzNLayer(nn.Module):
    """The reference NLayerDiscriminator (convs at model.0/2/5/8/11)."""

    def __init__(self, in_nc, ndf=8, n_layers=3):
        super().__init__()
        layers = [nn.Conv2d(in_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4,
                                 2 if n < n_layers else 1, 1, bias=True),
                       _norm('instance', ndf * mult),
                       nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def randomise(module: nn.Module, seed: int) -> nn.Module:
    """Random weights (and BN statistics) so that nothing is zero/one."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                values = torch.randn(tensor.shape, generator=generator)
                if name.endswith('running_var'):
                    values = values.abs() + 0.5
                tensor.copy_(values * (0.1 if 'running' not in name else 1))
    return module.eval()


def with_stale_stats(module: nn.Module) -> dict:
    """The state dict as pre-0.4 PyTorch saved it: IN statistics included."""
    state = dict(module.state_dict())
    for name, sub in module.named_modules():
        if isinstance(sub, nn.InstanceNorm2d):
            channels = sub.num_features
            state[f'{name}.running_mean'] = torch.randn(channels)
            state[f'{name}.running_var'] = torch.rand(channels) + 0.5
            state[f'{name}.num_batches_tracked'] = torch.tensor(3)
    return state


def tiny_generator_cfg(in_channels=3, out_channels=3, base=8, blocks=1,
                       **kwargs) -> dict:
    """A small ResnetGenerator config."""
    return dict(type='ResnetGenerator', in_channels=in_channels,
                out_channels=out_channels, base_channels=base,
                num_blocks=blocks, **kwargs)


def write_checkpoint(path, channels_a=3, channels_b=3, iteration=7,
                     domains=('photo', 'anime'), seed=0, **gen_kwargs):
    """A checkpoint in our training layout (meta.cfg, state_dict).

    Returns ``{'a2b': generator, 'b2a': generator}`` (eval mode).
    """
    cfg_a2b = tiny_generator_cfg(channels_a, channels_b, **gen_kwargs)
    model = dict(
        type='CycleGAN', generator_a2b=cfg_a2b,
        discriminator_b=dict(type='PatchDiscriminator',
                             in_channels=channels_b, base_channels=4,
                             num_conv=2),
        identity_weight=0.5 if channels_a == channels_b else 0.0)
    kwargs = {k: v for k, v in cfg_a2b.items() if k != 'type'}
    gens = {
        'a2b': randomise(ResnetGenerator(**kwargs), seed),
        'b2a': randomise(ResnetGenerator(**dict(
            kwargs, in_channels=channels_b, out_channels=channels_a)),
            seed + 1),
    }
    state = {}
    for direction, gen in gens.items():
        for key, value in gen.state_dict().items():
            state[f'generator_{direction}.{key}'] = value
    meta = dict(cfg=Config(dict(model=model)).pretty_text, iter=iteration,
                dataset_meta=dict(domain_a=domains[0], domain_b=domains[1]))
    torch.save(dict(meta=meta, state_dict=state), str(path))
    return gens


def pad_run_crop(generator: nn.Module, x: torch.Tensor,
                 multiple: int = 4) -> torch.Tensor:
    """Reference full-resolution inference: numpy reflect-pad, run, crop."""
    import numpy as np
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    top, left = pad_h // 2, pad_w // 2
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (top, pad_h - top),
                                (left, pad_w - left)), mode='reflect')
    with torch.no_grad():
        y = generator(torch.from_numpy(padded))
    return y[..., top:top + height, left:left + width]
