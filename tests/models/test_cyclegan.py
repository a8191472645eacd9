"""The CycleGAN model: loss weighting, phases, modes, validation."""
import pytest
import torch
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
from mm_cyclegan.registry import MODELS

init_default_scope('mm_cyclegan')


def _cfg(channels_a=3, channels_b=3, **kwargs):
    cfg = dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=channels_a,
                           out_channels=channels_b, base_channels=4,
                           num_blocks=1),
        discriminator_b=dict(type='PatchDiscriminator',
                             in_channels=channels_b, base_channels=4,
                             num_conv=2, norm_cfg=dict(type='IN')))
    cfg.update(kwargs)
    return cfg


def _model(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(_cfg(**kwargs))
    model.init_weights()
    return model


def _optim(model):
    adam = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
    return CycleGANOptimWrapperConstructor(
        dict(generators=adam, discriminators=adam))(model)


def _data(n=1, size=16, ca=3, cb=3):
    gen = torch.Generator().manual_seed(1)
    return dict(img_a=torch.rand(n, ca, size, size, generator=gen) * 2 - 1,
                img_b=torch.rand(n, cb, size, size, generator=gen) * 2 - 1)


def test_identity_term_is_lambda_idt_times_lambda_cycle_times_l1():
    model = _model(identity_weight=0.5)
    real = torch.zeros(1, 3, 16, 16)
    idt = torch.full((1, 3, 16, 16), 0.25)
    out = dict(real_a=real, real_b=real, fake_a=real, fake_b=real,
               rec_a=real, rec_b=real, idt_a=idt, idt_b=idt * 2)
    losses = model._generator_losses(out)
    # 0.5 x 10 = 5 times the mean absolute error (0.25 and 0.5).
    assert losses['loss_identity_a'].item() == pytest.approx(5 * 0.25)
    assert losses['loss_identity_b'].item() == pytest.approx(5 * 0.5)
    assert losses['loss_cycle_a'].item() == 0.0


def test_identity_weights_follow_each_domain_cycle_weight():
    model = _model(
        identity_weight=0.5,
        cycle_loss_a=dict(type='CycleConsistencyLoss', loss_weight=10.0),
        cycle_loss_b=dict(type='CycleConsistencyLoss', loss_weight=4.0))
    assert model.weight_identity_a == pytest.approx(5.0)
    assert model.weight_identity_b == pytest.approx(2.0)
    assert model.loss_weights == pytest.approx(dict(
        cycle_a=10.0, cycle_b=4.0, identity_a=5.0, identity_b=2.0))
    logs = model.train_step(_data(), _optim(model))
    # Constant weights are logged once at start, not in every log line.
    assert not [k for k in logs if k.startswith('weight')]
    for key in ('loss_gan_a2b', 'loss_gan_b2a', 'loss_cycle_a',
                'loss_cycle_b', 'loss_identity_a', 'loss_identity_b',
                'loss_d_a', 'loss_d_b', 'loss_generators',
                'loss_discriminators'):
        assert torch.isfinite(torch.as_tensor(logs[key])), key


def _count_generator_calls(model):
    calls = []
    for name in ('generator_a2b', 'generator_b2a'):
        getattr(model, name).register_forward_hook(
            lambda *a, name=name: calls.append(name))
    return calls


@pytest.mark.parametrize('weight, passes', [(0.5, 6), (0.0, 4)])
def test_identity_passes_skipped_when_weight_is_zero(weight, passes):
    model = _model(identity_weight=weight)
    calls = _count_generator_calls(model)
    logs = model.train_step(_data(), _optim(model))
    assert len(calls) == passes
    assert ('loss_identity_a' in logs) == (weight > 0)


def test_discriminators_frozen_during_generator_update():
    model = _model()
    out = model._translate(*_data().values())
    total, _ = model.parse_losses(model._generator_losses(out))
    total.backward()
    for name in ('discriminator_a', 'discriminator_b'):
        net = getattr(model, name)
        assert all(p.grad is None for p in net.parameters()), name
        assert all(p.requires_grad for p in net.parameters()), name
    assert all(p.grad is not None for p in model.generator_a2b.parameters())


@pytest.mark.parametrize('order', ['generators_first',
                                   'discriminators_first'])
def test_both_update_orders_move_all_networks(order):
    model = _model(update_order=order)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train_step(_data(), _optim(model))
    for prefix in ('generator_a2b', 'generator_b2a', 'discriminator_a',
                   'discriminator_b'):
        moved = [k for k, v in model.state_dict().items()
                 if k.startswith(prefix) and not torch.equal(v, before[k])]
        assert moved, prefix


def test_order_changes_what_generators_see():
    logs = {}
    for order in ('generators_first', 'discriminators_first'):
        model = _model(update_order=order)
        logs[order] = model.train_step(_data(), _optim(model))
    # Same initial D, so the D loss matches; G's adversarial term differs
    # because it is computed against the already-updated D.
    assert torch.allclose(logs['generators_first']['loss_d_b'],
                          logs['discriminators_first']['loss_d_b'])
    assert not torch.allclose(logs['generators_first']['loss_gan_a2b'],
                              logs['discriminators_first']['loss_gan_a2b'])


def test_gray_to_rgb_domains_train_without_identity():
    model = _model(channels_a=1, channels_b=3, identity_weight=0.0)
    assert model.discriminator_a.state_dict()[
        'model.0.conv.weight'].shape[1] == 1
    logs = model.train_step(_data(ca=1, cb=3), _optim(model))
    assert torch.isfinite(logs['loss_generators'])
    outputs = model.val_step(_data(ca=1, cb=3))
    assert outputs[0]['fake_b'].shape[0] == 3
    assert outputs[0]['fake_a'].shape[0] == 1


def test_identity_with_unequal_channels_is_rejected():
    with pytest.raises(ValueError, match='identity_weight=0.5'):
        MODELS.build(_cfg(channels_a=1, channels_b=3, identity_weight=0.5))


@pytest.mark.parametrize('kwargs, match', [
    (dict(update_order='both'), "'both'"),
    (dict(test_norm_mode='random'), "'random'"),
    (dict(identity_weight=-1), '-1'),
])
def test_invalid_options_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(_cfg(**kwargs))


def test_mismatched_discriminator_channels_are_rejected():
    cfg = _cfg()
    cfg['discriminator_a'] = dict(type='PatchDiscriminator', in_channels=1,
                                  base_channels=4, num_conv=2)
    with pytest.raises(ValueError, match='discriminator_a.in_channels'):
        MODELS.build(cfg)


@pytest.mark.parametrize('mode', ['eval', 'train'])
def test_val_step_uses_configured_mode_and_restores_it(mode):
    norm = dict(type='BN')
    cfg = _cfg(test_norm_mode=mode)
    cfg['generator_a2b']['norm_cfg'] = norm
    model = MODELS.build(cfg)
    seen = []
    model.generator_a2b.register_forward_hook(
        lambda mod, *a: seen.append(mod.training))
    running = model.generator_a2b.model[1].norm.running_mean.clone() \
        if hasattr(model.generator_a2b.model[1], 'norm') else None
    for start in (True, False):
        model.train(start)
        model.val_step(_data(n=2))
        assert model.training is start
    # Two val steps, each calling generator_a2b twice (fake_b, rec_b).
    assert seen == [mode == 'train'] * 4
    if running is not None and mode == 'eval':
        assert torch.equal(
            running, model.generator_a2b.model[1].norm.running_mean)


def test_val_outputs_crop_padding_and_pass_metadata():
    model = _model()
    data = _data(n=2)
    data['pad_a'] = torch.tensor([[0, 0, 0, 0], [1, 3, 2, 2]])
    data['pad_b'] = torch.zeros(2, 4, dtype=torch.int64)
    data['path_a'] = ['x.png', 'y.png']
    data['valid_a'] = torch.tensor([True, False])
    outputs = model.test_step(data)
    assert outputs[0]['fake_b'].shape == (3, 16, 16)
    assert outputs[1]['fake_b'].shape == (3, 12, 12)
    assert outputs[1]['real_a'].shape == (3, 12, 12)
    assert outputs[1]['path_a'] == 'y.png'
    assert outputs[1]['valid_a'] is False


def test_gradient_penalty_is_applied_to_discriminator_loss():
    with_gp = _model(gan_loss=dict(type='GANLoss', gan_type='wgan'),
                     gradient_penalty=dict(type='GradientPenalty',
                                           loss_weight=10.0))
    logs = with_gp.train_step(_data(), _optim(with_gp))
    assert logs['loss_gp_a'] > 0 and logs['loss_gp_b'] > 0
    total = (logs['loss_d_a'] + logs['loss_d_b'] + logs['loss_gp_a'] +
             logs['loss_gp_b'])
    assert torch.allclose(logs['loss_discriminators'], total)


def test_forward_translates_a_to_b():
    model = _model().eval()
    x = _data()['img_a']
    assert torch.equal(model(x), model.generator_a2b(x))
    with pytest.raises(ValueError, match="'loss'"):
        model(x, mode='loss')


def test_loss_weights_logged_once_at_the_first_step(capsys):
    from mmengine.logging import MMLogger
    MMLogger.get_instance('test_weights_once', log_level='INFO')
    model = _model(identity_weight=0.5)
    optim = _optim(model)
    for _ in range(3):
        model.train_step(_data(), optim)
    out = capsys.readouterr()
    text = out.out + out.err
    assert text.count('CycleGAN loss weights') == 1, text
    assert 'identity_a=5' in text and 'cycle_b=10' in text


def test_identity_loss_weight_given_by_the_user_is_an_error():
    with pytest.raises(ValueError, match='loss_weight=3'):
        _model(identity_loss=dict(type='IdentityLoss', loss_weight=3))


def test_set_image_pools_feeds_the_discriminators_through_the_pools():
    from mm_cyclegan.engine import make_image_pools
    model = _model()
    assert model.image_pools is None
    pools = make_image_pools(size=4, swap_prob=0.5, seed=3)
    model.set_image_pools(pools)
    assert model.image_pools is pools
    model.train_step(_data(n=2), _optim(model))
    assert len(pools.a) == 2 and len(pools.b) == 2
    with pytest.raises(TypeError, match='ImagePools'):
        model.set_image_pools([pools.a, pools.b])
