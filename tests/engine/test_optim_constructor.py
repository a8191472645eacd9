"""CycleGANOptimWrapperConstructor: two optimisers, and clear config errors."""
import pytest
import torch
from mmengine.optim import OptimWrapperDict
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import CycleGANOptimWrapperConstructor
from mm_cyclegan.registry import MODELS

init_default_scope('mm_cyclegan')
ADAM = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))


def _model():
    return MODELS.build(dict(
        type='CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=3,
                           out_channels=3, base_channels=4, num_blocks=1),
        discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                             base_channels=4, num_conv=2)))


def _ids(params):
    return {id(p) for p in params}


def test_each_optimiser_owns_exactly_its_two_networks():
    model = _model()
    wrappers = CycleGANOptimWrapperConstructor(
        dict(generators=ADAM, discriminators=dict(
            optimizer=dict(type='SGD', lr=0.1))))(model)
    assert isinstance(wrappers, OptimWrapperDict)
    groups = {
        name: _ids(p for g in wrappers[name].optimizer.param_groups
                   for p in g['params'])
        for name in ('generators', 'discriminators')}
    assert groups['generators'] == _ids(
        list(model.generator_a2b.parameters())
        + list(model.generator_b2a.parameters()))
    assert groups['discriminators'] == _ids(
        list(model.discriminator_a.parameters())
        + list(model.discriminator_b.parameters()))
    assert isinstance(wrappers['discriminators'].optimizer, torch.optim.SGD)


def test_paramwise_cfg_applies_per_group():
    model = _model()
    cfg = dict(ADAM, paramwise_cfg=dict(bias_decay_mult=0.0))
    cfg['optimizer'] = dict(cfg['optimizer'], weight_decay=0.1)
    wrappers = CycleGANOptimWrapperConstructor(
        dict(generators=cfg, discriminators=ADAM))(model)
    decays = {g['weight_decay']
              for g in wrappers['generators'].optimizer.param_groups}
    assert decays == {0.0, 0.1}


@pytest.mark.parametrize('cfg, words', [
    (dict(generators=ADAM), ["missing ['discriminators']"]),
    (dict(generators=ADAM, discriminators=ADAM, critic=ADAM),
     ["unknown ['critic']"]),
    (dict(optimizer=ADAM['optimizer']),
     ["missing ['generators', 'discriminators']", "unknown ['optimizer']"]),
])
def test_wrong_keys_are_named(cfg, words):
    with pytest.raises(ValueError) as info:
        CycleGANOptimWrapperConstructor(cfg)
    for word in words:
        assert word in str(info.value)


def test_top_level_paramwise_cfg_is_refused():
    with pytest.raises(ValueError, match='inside each of'):
        CycleGANOptimWrapperConstructor(
            dict(generators=ADAM, discriminators=ADAM),
            paramwise_cfg=dict(norm_decay_mult=0.0))


def test_built_through_the_runner_registry_path():
    from mm_cyclegan.registry import OPTIM_WRAPPER_CONSTRUCTORS
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='CycleGANOptimWrapperConstructor',
        optim_wrapper_cfg=dict(generators=ADAM, discriminators=ADAM)))
    wrappers = constructor(_model())
    assert sorted(wrappers.keys()) == ['discriminators', 'generators']


@pytest.mark.parametrize('optimizer, fused', [
    (dict(type='Adam', lr=2e-4), True),
    (dict(type='AdamW', lr=2e-4), True),
    (dict(type=torch.optim.Adam, lr=2e-4), True),
    (dict(type='Adam', lr=2e-4, fused=False), False),
    (dict(type='Adam', lr=2e-4, foreach=True), None),
    (dict(type='SGD', lr=0.1), None),
])
def test_adam_runs_fused_unless_the_config_chose(optimizer, fused):
    wrappers = CycleGANOptimWrapperConstructor(dict(
        generators=dict(optimizer=dict(optimizer)),
        discriminators=dict(optimizer=dict(optimizer))))(_model())
    for name in ('generators', 'discriminators'):
        group = wrappers[name].optimizer.param_groups[0]
        assert group.get('fused') == fused


def test_fused_adam_makes_the_same_update_to_rounding():
    model = _model()
    torch.manual_seed(0)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    steps = {}
    for fused in (False, True):
        copy = _model()
        copy.load_state_dict(model.state_dict())
        for p, q in zip(copy.parameters(), model.parameters()):
            p.grad = q.grad.clone()
        wrappers = CycleGANOptimWrapperConstructor(dict(
            generators=dict(optimizer=dict(ADAM['optimizer'], fused=fused)),
            discriminators=ADAM))(copy)
        for _ in range(3):
            wrappers['generators'].step()
        steps[fused] = [p.detach().clone() for p in copy.parameters()]
    for a, b in zip(steps[False], steps[True]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
