"""MMagic 1.2.0's built-in CycleGAN, driven the way its configs drive it.

Only what the quality benchmark needs: build the model as
``configs/cyclegan/*horse2zebra.py`` does (domain names instead of
horse/zebra), start it from our initial weights, feed it our images in the
format its data pipeline produces, and turn its outputs back into our
convention (RGB, [-1, 1]) so both models are scored by the same metric.

MMagic's pipeline loads images as BGR ``uint8`` (``LoadImageFromFile``) and
packs them with ``PackInputs``; its ``DataPreprocessor`` (mean = std = 127.5,
no channel conversion) hands the networks BGR in [-1, 1]. Our networks see
RGB. To make both start as the *same function*, the weights copied into
MMagic's networks have the input channels of their first convolution (and,
for the generators, the output channels of their last one) reversed.
"""
from __future__ import annotations

import copy
from typing import Sequence

import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope
from torch import Tensor, nn

DOMAIN_A = 'photo'  # our domain a
DOMAIN_B = 'anime'  # our domain b
# MMagic names a generator and a discriminator after the domain they
# produce / judge: generators['anime'] is photo -> anime.
OURS_TO_MMAGIC = {
    'generator_a2b': ('generators', DOMAIN_B),
    'generator_b2a': ('generators', DOMAIN_A),
    'discriminator_a': ('discriminators', DOMAIN_A),
    'discriminator_b': ('discriminators', DOMAIN_B),
}


def _check(condition: bool, message: str) -> None:
    # Not ``assert``: these checks guard the benchmark's validity and must
    # survive ``python -O``.
    if not condition:
        raise RuntimeError(message)


def build_mmagic_cyclegan(generator: dict, discriminator: dict,
                          cycle_loss_weight: float = 10.0,
                          id_loss_weight: float = 0.5,
                          buffer_size: int = 50) -> nn.Module:
    """MMagic's ``CycleGAN`` with MMagic's own networks.

    ``generator``/``discriminator`` are the architecture arguments of
    MMagic's ``ResnetGenerator``/``PatchDiscriminator`` (no ``type``). The
    loss weights default to MMagic's (``id_loss_weight`` is absolute there,
    so 0.5 is 10x weaker than the paper's 0.5 x 10). ``init_weights()`` is
    not called (it crashes, open-mmlab/mmagic#2109): copy weights in with
    :func:`load_our_weights`.
    """
    from mmagic.models.archs.patch_disc import PatchDiscriminator
    from mmagic.models.editors.cyclegan import CycleGAN
    from mmagic.models.editors.cyclegan.cyclegan_generator import (
        ResnetGenerator,
    )
    from mmagic.registry import MODELS as MMAGIC_MODELS

    domains = [DOMAIN_A, DOMAIN_B]
    cfg = dict(
        type='CycleGAN',
        data_preprocessor=dict(
            type='DataPreprocessor',
            data_keys=[f'img_{d}' for d in domains]),
        generator=dict(type='ResnetGenerator',
                       init_cfg=dict(type='normal', gain=0.02),
                       **copy.deepcopy(generator)),
        discriminator=dict(type='PatchDiscriminator',
                           init_cfg=dict(type='normal', gain=0.02),
                           **copy.deepcopy(discriminator)),
        default_domain=DOMAIN_B,
        reachable_domains=domains,
        related_domains=domains,
        buffer_size=buffer_size,
        loss_config=dict(cycle_loss_weight=cycle_loss_weight,
                         id_loss_weight=id_loss_weight))
    # Our registries are children of MMagic's and reuse its class names:
    # build in MMagic's scope so 'ResnetGenerator' means MMagic's.
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MMAGIC_MODELS.build(cfg)
    _check(type(model) is CycleGAN,
           f'built {type(model)}, not MMagic CycleGAN')
    for domain in domains:
        _check(type(model.generators[domain]) is ResnetGenerator,
               f'generator {domain} is {type(model.generators[domain])}')
        _check(type(model.discriminators[domain]) is PatchDiscriminator,
               f'discriminator {domain} is '
               f'{type(model.discriminators[domain])}')
    return model


def _end_convs(network: nn.Module) -> tuple[str, str]:
    """Names of the first and the last convolution (any kind)."""
    names = [
        name for name, m in network.named_modules()
        if isinstance(m, nn.modules.conv._ConvNd)
    ]
    _check(len(names) >= 2, f'{type(network).__name__} has < 2 convs')
    return names[0], names[-1]


def rgb_to_bgr_weights(network: nn.Module, flip_output: bool) -> dict:
    """A state dict of ``network`` for BGR inputs (and outputs).

    The first convolution's input channels are reversed; with
    ``flip_output`` also the last convolution's output channels (weight and
    bias). A network loaded with it computes ``f(x[:, ::-1])[:, ::-1]``
    where the original computes ``f(x)``.
    """
    state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    first, last = _end_convs(network)
    state[f'{first}.weight'] = state[f'{first}.weight'].flip(1)
    if flip_output:
        state[f'{last}.weight'] = state[f'{last}.weight'].flip(0)
        if f'{last}.bias' in state:
            state[f'{last}.bias'] = state[f'{last}.bias'].flip(0)
    return state


def load_our_weights(ours: nn.Module, theirs: nn.Module) -> None:
    """Copy our four networks into MMagic's model (strict, BGR-adapted)."""
    for name, (group, domain) in OURS_TO_MMAGIC.items():
        state = rgb_to_bgr_weights(getattr(ours, name),
                                   flip_output=group == 'generators')
        getattr(theirs, group)[domain].load_state_dict(state, strict=True)


@torch.no_grad()
def check_same_function(ours: nn.Module, theirs: nn.Module,
                        img_a: Tensor, img_b: Tensor) -> float:
    """Raise unless every network pair computes the same function.

    ``img_a``/``img_b`` are our RGB batches; MMagic's networks get them as
    BGR. Returns the largest absolute difference seen.
    """
    worst = 0.0
    inputs = dict(generator_a2b=img_a, generator_b2a=img_b,
                  discriminator_a=img_a, discriminator_b=img_b)
    for name, (group, domain) in OURS_TO_MMAGIC.items():
        mine = getattr(ours, name)
        other = getattr(theirs, group)[domain]
        mine_mode, other_mode = mine.training, other.training
        mine.eval()
        other.eval()
        expected = mine(inputs[name])
        got = other(inputs[name].flip(1))
        if group == 'generators':
            got = got.flip(1)
        mine.train(mine_mode)
        other.train(other_mode)
        _check(expected.shape == got.shape,
               f'{name}: output shapes differ, {tuple(expected.shape)} vs '
               f'{tuple(got.shape)}')
        diff = float((expected - got).abs().max())
        _check(diff < 1e-4,
               f'{name} and MMagic {group}[{domain!r}] differ by {diff}')
        worst = max(worst, diff)
    return worst


def to_uint8(images: Tensor) -> Tensor:
    """Our [-1, 1] images as the ``uint8`` values they were made from.

    Raises if the conversion is not exact (the dataset builds its tensors
    as ``uint8 / 127.5 - 1``, so it must be).
    """
    values = ((images + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    _check(torch.equal(values.float().div(127.5).sub(1.0), images),
           'images are not uint8 / 127.5 - 1; cannot feed MMagic exactly')
    return values


def to_mmagic_batch(img_a: Tensor, img_b: Tensor) -> dict:
    """What MMagic's dataloader yields for these images (batch of N).

    Each sample goes through ``PackInputs`` as in the horse2zebra config,
    from BGR ``uint8`` HWC arrays (``LoadImageFromFile``'s output), then
    ``pseudo_collate`` (the Runner's default).
    """
    from mmagic.datasets.transforms import PackInputs
    from mmengine.dataset import pseudo_collate

    keys = [f'img_{DOMAIN_A}', f'img_{DOMAIN_B}']
    pack = PackInputs(keys=keys, data_keys=keys)
    samples = []
    for a, b in zip(to_uint8(img_a), to_uint8(img_b)):
        results = {
            keys[0]: a.flip(0).permute(1, 2, 0).contiguous().numpy(),
            keys[1]: b.flip(0).permute(1, 2, 0).contiguous().numpy(),
        }
        samples.append(pack.transform(results))
    return pseudo_collate(samples)


def from_mmagic_image(image: Tensor) -> Tensor:
    """A ``destruct``-ed MMagic output (BGR, [0, 255], CHW) in our
    convention (RGB, [-1, 1])."""
    return image.flip(-3).float().div(127.5).sub(1.0)


@torch.no_grad()
def check_data_round_trip(model: nn.Module, img_a: Tensor,
                          img_b: Tensor) -> float:
    """Raise unless MMagic's preprocessing is our tensor, channel-reversed.

    Checks the training path (``DataPreprocessor(data, True)`` gives
    ``img[:, ::-1]``) and the test path (``destruct`` of a preprocessed
    input, converted by :func:`from_mmagic_image`, gives ``img`` back).
    Returns the largest absolute difference seen.
    """
    worst = 0.0
    for training in (True, False):
        data = model.data_preprocessor(to_mmagic_batch(img_a, img_b),
                                       training)
        samples = data['data_samples']
        for domain, ours in ((DOMAIN_A, img_a), (DOMAIN_B, img_b)):
            theirs = data['inputs'][f'img_{domain}']
            diff = float((theirs - ours.flip(1)).abs().max())
            _check(diff < 1e-5, f'MMagic preprocessed img_{domain} '
                   f'differs from ours (BGR) by {diff}')
            worst = max(worst, diff)
            if training:
                continue
            for i, sample in enumerate(samples.split()):
                back = from_mmagic_image(model.data_preprocessor.destruct(
                    theirs[i].clone(), sample, f'img_{domain}'))
                diff = float((back - ours[i]).abs().max())
                _check(diff < 1e-5, f'MMagic destruct(img_{domain}) does '
                       f'not round-trip (max diff {diff})')
                worst = max(worst, diff)
    return worst


def make_optim_wrapper(model: nn.Module, lr: float,
                       betas: Sequence[float]) -> OptimWrapperDict:
    """Adam for both generators and for both discriminators, as in
    MMagic's configs."""
    return OptimWrapperDict(
        generators=OptimWrapper(torch.optim.Adam(
            model.generators.parameters(), lr=lr, betas=tuple(betas))),
        discriminators=OptimWrapper(torch.optim.Adam(
            model.discriminators.parameters(), lr=lr, betas=tuple(betas))))


def _sample(batch: dict, i: int, fake_a: Tensor, fake_b: Tensor) -> dict:
    """One output dict in the format ``PairedTranslationMetric`` reads."""
    return dict(real_a=batch['img_a'][i], real_b=batch['img_b'][i],
                fake_a=fake_a, fake_b=fake_b, paired=batch['paired'][i],
                valid_a=batch['valid_a'][i], valid_b=batch['valid_b'][i])


@torch.no_grad()
def translate_test_batch(model: nn.Module,
                         batch: dict) -> dict[str, list[dict]]:
    """Translate a test batch (ours, collated) both ways, two ways.

    ``'test_step'``: MMagic's own ``test_step``, as its test loop runs it
    (its ``forward_test`` switches the model to train mode). ``'eval'``: the
    same generators in eval mode, called directly. Outputs are converted to
    our convention; each list holds one dict per sample.
    """
    mm_batch = to_mmagic_batch(batch['img_a'], batch['img_b'])
    shipped = []
    for i, sample in enumerate(model.test_step(mm_batch)):
        shipped.append(_sample(
            batch, i, from_mmagic_image(getattr(sample, f'fake_{DOMAIN_A}')),
            from_mmagic_image(getattr(sample, f'fake_{DOMAIN_B}'))))

    previous = model.training
    model.eval()
    data = model.data_preprocessor(
        to_mmagic_batch(batch['img_a'], batch['img_b']), False)
    inputs = data['inputs']
    # Generators output BGR in [-1, 1]; clamp like MMagic's destruct.
    fake_b = model.generators[DOMAIN_B](inputs[f'img_{DOMAIN_A}'])
    fake_a = model.generators[DOMAIN_A](inputs[f'img_{DOMAIN_B}'])
    model.train(previous)
    evaluated = [
        _sample(batch, i, fake_a[i].flip(0).clamp(-1, 1),
                fake_b[i].flip(0).clamp(-1, 1))
        for i in range(fake_a.shape[0])
    ]
    return dict(test_step=shipped, eval=evaluated)


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())
