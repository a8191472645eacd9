"""Our MMagic-named classes are drop-ins for MMagic's.

For every class of ours that shares a name with an MMagic class, built with
the same config: the same state-dict keys and shapes, MMagic's weights load
strictly, the outputs are identical, and the same seed initialises the same
weights. MMagic's ``GANLoss`` gives the same values, including the
soft-mask GAN loss of its AOT-GAN inpainting model.
"""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.models.discriminators import PatchDiscriminator
from mm_cyclegan.models.generators import ResnetGenerator, UnetGenerator
from mm_cyclegan.models.losses import GANLoss
from mm_cyclegan.utils.validation import (
    AssertionTypeError,
    AssertionValueError,
    NotImplementedValueError,
)

pytestmark = pytest.mark.filterwarnings(
    'ignore:Unnecessary conv bias', 'ignore:size_average and reduce')

# Norm configs MMagic users write; 'default' leaves norm_cfg out.
NORMS = {
    'default': None,
    'BN': dict(type='BN'),
    'IN': dict(type='IN'),
    'IN-affine': dict(type='IN', affine=True),
    'GN': dict(type='GN', num_groups=2),
    'SyncBN': dict(type='SyncBN'),
    'BN-no-affine': dict(type='BN', affine=False),
}


def _mmagic_class(name):
    from mmagic.models.archs.patch_disc import (
        PatchDiscriminator as MMagicPatchDiscriminator,
    )
    from mmagic.models.editors.cyclegan.cyclegan_generator import (
        ResnetGenerator as MMagicResnetGenerator,
    )
    from mmagic.models.editors.pix2pix.pix2pix_generator import (
        UnetGenerator as MMagicUnetGenerator,
    )
    return dict(ResnetGenerator=MMagicResnetGenerator,
                UnetGenerator=MMagicUnetGenerator,
                PatchDiscriminator=MMagicPatchDiscriminator)[name]


OURS = dict(ResnetGenerator=ResnetGenerator, UnetGenerator=UnetGenerator,
            PatchDiscriminator=PatchDiscriminator)
# Tiny configurations: everything else is the class's default.
SIZES = dict(
    ResnetGenerator=dict(in_channels=3, out_channels=2, base_channels=4,
                         num_blocks=1),
    UnetGenerator=dict(in_channels=3, out_channels=2, num_down=5,
                       base_channels=4),
    PatchDiscriminator=dict(in_channels=3, base_channels=4))

CASES = [(name, norm, dropout) for name in OURS for norm in NORMS
         for dropout in ((False, True) if 'Generator' in name else (None, ))]


def _ids(case):
    name, norm, dropout = case
    return f'{name}-{norm}' + ('' if dropout is None else f'-drop{dropout}')


def _kwargs(name, norm, dropout):
    kwargs = copy.deepcopy(SIZES[name])
    if NORMS[norm] is not None:
        kwargs['norm_cfg'] = copy.deepcopy(NORMS[norm])
    if dropout is not None:
        kwargs['use_dropout'] = dropout
    return kwargs


def _pair(name, kwargs):
    # MMagic's U-Net finds its 'Deconv' layer only in MMagic's scope.
    with DefaultScope.overwrite_default_scope('mmagic'):
        theirs = _mmagic_class(name)(**copy.deepcopy(kwargs))
        ours = OURS[name](**copy.deepcopy(kwargs))
    return ours, theirs


def _perturb(net, seed):
    """Random weights, biases and running statistics (all non-trivial)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in net.state_dict().items():
            if value.is_floating_point():
                noise = torch.rand(value.shape, generator=gen)
                value.copy_(noise + 0.5 if key.endswith('running_var')
                             else value + 0.1 * (noise - 0.5))


@pytest.mark.parametrize('case', CASES, ids=[_ids(c) for c in CASES])
def test_mmagic_weights_load_strictly_and_give_the_same_outputs(case):
    name, norm, dropout = case
    ours, theirs = _pair(name, _kwargs(name, norm, dropout))
    assert type(ours).__name__ == type(theirs).__name__
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert ours_sd[key].shape == value.shape, key
    _perturb(theirs, seed=1)
    ours.load_state_dict(theirs.state_dict(), strict=True)

    x = torch.rand(2, 3, 32, 32) * 2 - 1
    # SyncBN normalises with batch statistics only inside a process group;
    # in eval mode it is plain batch norm with the running statistics.
    modes = (False, ) if norm == 'SyncBN' else (False, True)
    for train in modes:
        ours.train(train)
        theirs.train(train)
        outputs = []
        for net in (ours, theirs):
            torch.manual_seed(3)  # the same dropout masks in both
            outputs.append(net(x.clone()))
        torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    if norm == 'SyncBN':
        # After converting both to BatchNorm2d the training forward (batch
        # statistics) must agree too.
        for net in (ours, theirs):
            for parent in net.modules():
                for child_name, child in parent.named_children():
                    if isinstance(child, nn.SyncBatchNorm):
                        bn = nn.BatchNorm2d(child.num_features)
                        bn.load_state_dict(child.state_dict())
                        setattr(parent, child_name, bn)
        torch.manual_seed(3)
        a = ours.train()(x)
        torch.manual_seed(3)
        torch.testing.assert_close(a, theirs.train()(x), rtol=0, atol=0)


@pytest.mark.parametrize('name', list(OURS))
@pytest.mark.parametrize('norm', ['default', 'IN-affine', 'GN'])
def test_the_same_seed_initialises_the_same_weights(name, norm):
    # Built from different seeds: init_weights must overwrite the weights.
    torch.manual_seed(1)
    ours = OURS[name](**_kwargs(name, norm, None))
    torch.manual_seed(2)
    with DefaultScope.overwrite_default_scope('mmagic'):
        theirs = _mmagic_class(name)(**_kwargs(name, norm, None))
    for net in (ours, theirs):
        torch.manual_seed(5)
        net.init_weights()
    theirs_sd = theirs.state_dict()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, theirs_sd[key], rtol=0, atol=0,
                                   msg=key)


@pytest.mark.parametrize('name', list(OURS))
def test_defaults_are_mmagics(name):
    import inspect
    ours = inspect.signature(OURS[name]).parameters
    theirs = inspect.signature(_mmagic_class(name)).parameters
    assert list(theirs) == list(ours)[:len(theirs)]
    for arg, param in theirs.items():
        if param.default is inspect.Parameter.empty:
            continue
        default = ours[arg].default
        if arg == 'init_cfg':
            # None means MMagic's dict(type='normal', gain=0.02).
            assert default is None and param.default == dict(
                type='normal', gain=0.02)
        elif isinstance(param.default, dict):
            assert dict(default) == param.default, arg
        else:
            assert default == param.default, arg


def test_unknown_init_cfg_keys_are_ignored_like_mmagic():
    init_cfg = dict(type='normal', gain=0.02, bias=0)
    with pytest.warns(UserWarning, match="'bias'"):
        ours, theirs = _pair('PatchDiscriminator', dict(
            in_channels=3, base_channels=4, init_cfg=init_cfg))
    for net in (ours, theirs):
        torch.manual_seed(0)
        net.init_weights()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, theirs.state_dict()[key], msg=key)


@pytest.mark.parametrize('build,expected', [
    (lambda: GANLoss('xixihaha'), NotImplementedError),
    (lambda: PatchDiscriminator(3, norm_cfg=dict(tp='BN')), AssertionError),
    (lambda: UnetGenerator(3, 3, norm_cfg=[('type', 'BN')]), AssertionError),
    (lambda: ResnetGenerator(3, 3, num_blocks=-1), AssertionError),
    (lambda: ResnetGenerator(3, 3, init_cfg=dict(type='uniform')),
     NotImplementedError),
])
def test_invalid_arguments_raise_what_mmagic_code_catches(build, expected):
    with pytest.raises(expected) as info:
        build()
    assert isinstance(info.value, (ValueError, TypeError))
    assert isinstance(info.value, (AssertionValueError, AssertionTypeError,
                                   NotImplementedValueError))


# --------------------------------------------------------------------------
# GANLoss


def _mmagic_gan_loss(**kwargs):
    from mmagic.models.losses import GANLoss as MMagicGANLoss
    return MMagicGANLoss(**kwargs)


GAN_TYPES = ['vanilla', 'lsgan', 'wgan', 'hinge', 'l1', 'smgan']


@pytest.mark.parametrize('gan_type', GAN_TYPES)
@pytest.mark.parametrize('labels', ['numbers', 'tensors'])
def test_gan_loss_values_are_mmagics(gan_type, labels):
    real, fake = 0.9, 0.1
    if labels == 'tensors':
        real, fake = torch.tensor(real), torch.tensor([fake])
    kwargs = dict(gan_type=gan_type, real_label_val=real,
                  fake_label_val=fake, loss_weight=2.5)
    ours, theirs = GANLoss(**kwargs), _mmagic_gan_loss(**kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(2, 1, 6, 6, generator=gen)
    masks = [(torch.rand(2, 1, 6, 6, generator=gen) > 0.5).float(),
             (torch.rand(2, 1, 24, 20, generator=gen) > 0.3).float()]
    for mask in masks:
        for target_is_real in (True, False):
            for is_disc in (True, False):
                args = (pred, target_is_real, is_disc)
                expected = theirs(*args, mask=mask)
                torch.testing.assert_close(
                    ours(*args, mask=mask), expected, rtol=1e-5, atol=1e-6,
                    msg=f'{args[1:]}, mask {tuple(mask.shape)}')
                if gan_type != 'smgan':
                    # The mask is ignored; `input` is the first argument.
                    torch.testing.assert_close(
                        ours(input=pred, target_is_real=target_is_real,
                             is_disc=is_disc), expected)


def test_aotgan_loss_config_gives_mmagics_values():
    """AOT-GAN's discriminator and generator terms, as its model calls them.

    ``loss_gan`` of MMagic's AOT-GAN configs, built from MMagic's registry
    as ``GANLoss`` and as ``mm_cyclegan.GANLoss``, is called like
    ``AOTInpaintor`` does on the outputs of its soft-mask discriminator.
    """
    from mmagic.registry import MODELS as MMAGIC_MODELS

    import mm_cyclegan.models  # noqa: F401  (registers mm_cyclegan.GANLoss)
    cfg = dict(type='GANLoss', gan_type='smgan', loss_weight=0.01)
    with DefaultScope.overwrite_default_scope('mmagic'):
        theirs = MMAGIC_MODELS.build(cfg)
        ours = MMAGIC_MODELS.build(dict(cfg, type='mm_cyclegan.GANLoss'))
        disc = MMAGIC_MODELS.build(dict(
            type='SoftMaskPatchDiscriminator', in_channels=3,
            base_channels=8, num_conv=2, with_spectral_norm=True))
    assert type(ours) is GANLoss and type(theirs) is not GANLoss
    torch.manual_seed(0)
    gt = torch.rand(2, 3, 64, 64)
    fake = torch.rand(2, 3, 64, 64)
    mask = torch.zeros(2, 1, 64, 64)
    mask[:, :, 16:40, 20:52] = 1
    for loss in (ours, theirs):
        assert loss.gan_type == 'smgan'
    disc.eval()
    with torch.no_grad():
        pred_real, pred_fake = disc(gt), disc(fake)
    assert pred_fake.shape[2:] != mask.shape[2:]  # exercises the resize
    for args in ((pred_real, True, True), (pred_fake, False, True),
                 (pred_fake, True, False)):
        torch.testing.assert_close(
            ours(*args, mask=mask), theirs(*args, mask=mask),
            rtol=1e-5, atol=1e-7)


def test_smgan_without_mask_names_the_problem():
    with pytest.raises(ValueError, match='mask.*None'):
        GANLoss('smgan')(torch.zeros(1, 1, 4, 4), True)
