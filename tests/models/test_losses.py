"""Tests of the GAN, gradient-penalty, cycle and identity losses."""
import math

import pytest
import torch
import torch.nn as nn

import mm_cyclegan  # noqa: F401  (applies the compat patches first)
from mm_cyclegan.models.discriminators import PatchDiscriminator
from mm_cyclegan.models.losses import (
    CycleConsistencyLoss,
    GANLoss,
    GradientPenalty,
    IdentityLoss,
)
from mm_cyclegan.registry import MODELS

PRED = [0.5, -1.0, 2.0, 0.0]


def _mean(values):
    return sum(values) / len(values)


def _softplus(v):
    return math.log(1 + math.exp(v))


# Textbook values on PRED, computed by hand from the definitions:
# (gan_type, target_is_real, is_disc, expected)
GAN_CASES = [
    ('lsgan', True, True, _mean([(p - 1)**2 for p in PRED])),
    ('lsgan', False, True, _mean([p**2 for p in PRED])),
    ('lsgan', True, False, _mean([(p - 1)**2 for p in PRED])),
    # BCE(sigmoid(p), 1) = softplus(-p); BCE(sigmoid(p), 0) = softplus(p)
    ('vanilla', True, True, _mean([_softplus(-p) for p in PRED])),
    ('vanilla', False, True, _mean([_softplus(p) for p in PRED])),
    ('vanilla', True, False, _mean([_softplus(-p) for p in PRED])),
    ('hinge', True, True, _mean([max(0, 1 - p) for p in PRED])),
    ('hinge', False, True, _mean([max(0, 1 + p) for p in PRED])),
    ('hinge', True, False, -_mean(PRED)),
    ('wgan', True, True, -_mean(PRED)),
    ('wgan', False, True, _mean(PRED)),
    ('wgan', True, False, -_mean(PRED)),
    ('l1', True, True, _mean([abs(p - 1) for p in PRED])),
    ('l1', False, True, _mean([abs(p) for p in PRED])),
    ('l1', True, False, _mean([abs(p - 1) for p in PRED])),
]


@pytest.mark.parametrize('gan_type,target_is_real,is_disc,expected',
                         GAN_CASES)
def test_gan_loss_textbook_values(gan_type, target_is_real, is_disc,
                                  expected):
    loss = GANLoss(gan_type)(
        torch.tensor(PRED).view(2, 1, 1, 2), target_is_real, is_disc=is_disc)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_hinge_hand_values():
    pred = torch.tensor(PRED)
    loss = GANLoss('hinge')
    assert loss(pred, True, is_disc=True).item() == pytest.approx(3.5 / 4)
    assert loss(pred, False, is_disc=True).item() == pytest.approx(5.5 / 4)
    assert loss(pred, True).item() == pytest.approx(-1.5 / 4)


def test_gan_loss_uses_the_label_values():
    pred = torch.tensor(PRED)
    loss = GANLoss('lsgan', real_label_val=0.9, fake_label_val=0.1)
    assert loss(pred, True).item() == pytest.approx(
        _mean([(p - 0.9)**2 for p in PRED]))
    assert loss(pred, False, is_disc=True).item() == pytest.approx(
        _mean([(p - 0.1)**2 for p in PRED]))


def test_gan_loss_label_values_may_be_tensors():
    pred = torch.tensor(PRED)
    loss = GANLoss('vanilla', real_label_val=torch.tensor(0.9),
                   fake_label_val=torch.tensor([0.1]))
    numbers = GANLoss('vanilla', real_label_val=0.9, fake_label_val=0.1)
    for real in (True, False):
        torch.testing.assert_close(loss(input=pred, target_is_real=real),
                                   numbers(pred, real))


def test_smgan_hand_values():
    # The generator's term is the LSGAN error of the output resized to the
    # mask (bilinear, corners aligned): 2 x 2 -> 3 x 3 adds the midpoints.
    pred = torch.tensor([[0.0, 2.0], [4.0, 6.0]]).view(1, 1, 2, 2)
    resized = [0, 1, 2, 2, 3, 4, 4, 5, 6]
    mask = torch.zeros(1, 1, 3, 3)
    mask[..., 1:, 1:] = 1
    loss = GANLoss('smgan', loss_weight=2.0)
    assert loss(pred, True, mask=mask).item() == pytest.approx(
        2.0 * _mean([(v - 1)**2 for v in resized]))
    assert loss(pred, True, is_disc=True, mask=mask).item() == pytest.approx(
        _mean([(v - 1)**2 for v in resized]))
    # Fakes are pushed towards the blurred mask; a constant mask stays
    # constant wherever the 71 x 71 kernel lies inside the image.
    ones = torch.ones(1, 1, 72, 72)
    zeros = torch.zeros(1, 1, 72, 72)
    fake = loss(zeros, False, is_disc=True, mask=ones)
    assert 0 < fake.item() < 1
    target = loss._blur(ones)
    assert target[0, 0, 35, 35].item() == pytest.approx(1.0, rel=1e-5)
    assert target[0, 0, 0, 0].item() < 0.5  # zero padding outside
    with pytest.raises(ValueError, match=r'shape \(2, 2\)'):
        loss(pred, True, mask=torch.ones(2, 2))


@pytest.mark.parametrize('gan_type',
                         ['lsgan', 'vanilla', 'hinge', 'wgan', 'l1'])
def test_loss_weight_scales_the_generator_loss_only(gan_type):
    pred = torch.tensor(PRED)
    plain, weighted = GANLoss(gan_type), GANLoss(gan_type, loss_weight=3.0)
    assert weighted(pred, True).item() == pytest.approx(
        3.0 * plain(pred, True).item())
    for real in (True, False):
        assert weighted(pred, real, is_disc=True).item() == pytest.approx(
            plain(pred, real, is_disc=True).item())


@pytest.mark.parametrize('kwargs,error,match', [
    (dict(gan_type='wgan-gp'), ValueError, "'wgan-gp'"),
    (dict(gan_type='lsgan', fake_label_val=torch.tensor(1)), TypeError,
     'tensor'),
    (dict(gan_type='lsgan', loss_weight='1'), TypeError, "'1'"),
    (dict(gan_type='lsgan', real_label_val=None), TypeError, 'None'),
])
def test_gan_loss_invalid_config_names_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        GANLoss(**kwargs)


# --------------------------------------------------------------------------
# gradient penalty


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = sum over pixels of w . x[:, :, i, j]: grad_x D = w everywhere,
    # so |grad| = |w| sqrt(H W) whatever the interpolation coefficient.
    critic = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([0.1, -0.2, 0.2]).view(1, 3, 1, 1))
    real, fake = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    norm = math.sqrt(0.01 + 0.04 + 0.04) * 4
    penalty = GradientPenalty(loss_weight=10.0, target_norm=1.0)
    expected = 10.0 * (norm - 1.0)**2
    assert penalty(critic, real, fake).item() == pytest.approx(
        expected, rel=1e-5)
    penalty = GradientPenalty(loss_weight=2.0, target_norm=0.5)
    assert penalty(critic, real, fake).item() == pytest.approx(
        2.0 * (norm - 0.5)**2, rel=1e-5)


def _small_critic():
    torch.manual_seed(0)
    critic = PatchDiscriminator(3, base_channels=4, num_conv=2,
                                norm_cfg=dict(type='IN'))
    critic.init_weights()
    return critic


def test_gradient_penalty_changes_the_discriminator_gradients():
    critic = _small_critic()
    gan = GANLoss('wgan')
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    fake = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)

    def grads(with_penalty):
        critic.zero_grad()
        loss = gan(critic(real), True, is_disc=True) + gan(
            critic(fake.detach()), False, is_disc=True)
        if with_penalty:
            gp = GradientPenalty()(critic, real, fake,
                                   generator=torch.Generator().manual_seed(0))
            assert gp.item() > 0
            loss = loss + gp
        loss.backward()
        # Biases are left out: the output bias cannot affect grad_x D, and
        # those before instance norm get no gradient at all.
        return [
            p.grad.clone() for p in critic.parameters() if p.dim() > 1
        ]

    without, with_gp = grads(False), grads(True)
    for a, b in zip(without, with_gp):
        assert not torch.allclose(a, b)
    assert fake.grad is None  # the fakes are detached


def test_gradient_penalty_draws_from_the_given_generator():
    critic = _small_critic()
    real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    penalty = GradientPenalty()

    def value(seed):
        return penalty(critic, real, fake,
                       generator=torch.Generator().manual_seed(seed))

    state = torch.get_rng_state()
    first, again, other = value(1), value(1), value(2)
    assert torch.equal(torch.get_rng_state(), state)
    assert first.item() == again.item()
    assert first.item() != other.item()


def test_gradient_penalty_rejects_mismatched_batches():
    critic = _small_critic()
    shapes = r'\(2, 3, 32, 32\).*\(1, 3, 32, 32\)'
    with pytest.raises(ValueError, match=shapes):
        GradientPenalty()(critic, torch.rand(2, 3, 32, 32),
                          torch.rand(1, 3, 32, 32))


# --------------------------------------------------------------------------
# cycle-consistency and identity losses


@pytest.mark.parametrize('cls', [CycleConsistencyLoss, IdentityLoss])
def test_pixel_loss_hand_values(cls):
    pred = torch.tensor([1.0, 2.0, 3.0])
    target = torch.tensor([0.0, 0.0, 1.0])
    assert cls(loss_weight=2.0)(pred, target).item() == pytest.approx(
        2.0 * (1 + 2 + 2) / 3)
    assert cls(loss_weight=2.0, mode='l2')(pred, target).item() == \
        pytest.approx(2.0 * (1 + 4 + 4) / 3)


def test_pixel_loss_defaults_are_the_papers():
    # lambda_cycle = 10; identity 0.5 x lambda_cycle
    assert CycleConsistencyLoss().loss_weight == 10.0
    assert IdentityLoss().loss_weight == 5.0
    assert CycleConsistencyLoss().mode == IdentityLoss().mode == 'l1'


@pytest.mark.parametrize('kwargs,error,match', [
    (dict(mode='l3'), ValueError, "'l3'"),
    (dict(loss_weight=-1.0), ValueError, '-1.0'),
    (dict(loss_weight='10'), TypeError, "'10'"),
])
@pytest.mark.parametrize('cls', [CycleConsistencyLoss, IdentityLoss])
def test_pixel_loss_invalid_config_names_the_value(cls, kwargs, error,
                                                    match):
    with pytest.raises(error, match=match):
        cls(**kwargs)


def test_pixel_loss_rejects_broadcasting():
    with pytest.raises(ValueError, match=r'\(1, 3, 4, 4\).*\(1, 1, 4, 4\)'):
        CycleConsistencyLoss()(torch.zeros(1, 3, 4, 4),
                               torch.zeros(1, 1, 4, 4))


@pytest.mark.parametrize('cfg,cls', [
    (dict(type='GANLoss', gan_type='hinge'), GANLoss),
    (dict(type='GradientPenalty'), GradientPenalty),
    (dict(type='CycleConsistencyLoss'), CycleConsistencyLoss),
    (dict(type='IdentityLoss', mode='l2'), IdentityLoss),
])
def test_losses_build_from_our_registry(cfg, cls):
    # MMagic has a GANLoss too; our scope must resolve to ours.
    assert type(MODELS.build(cfg)) is cls
