"""The identity weight annealed over a run: the line, its validation, the
model's identity terms and a real Runner run that logs the weight."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.models.identity_anneal import IdentityAnneal
from mm_cyclegan.registry import MODELS
from tests.helpers import TINY_CONFIG, train

init_default_scope('mm_cyclegan')

_NET = dict(
    generator_a2b=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=4, num_blocks=1),
    discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                         base_channels=4, num_conv=2,
                         norm_cfg=dict(type='IN')))


def _hub(name, **info):
    """A fresh current MessageHub holding ``info`` (iter, max_iters)."""
    hub = MessageHub.get_instance(name)
    for key, value in info.items():
        hub.update_info(key, value)
    return hub


def test_weight_is_flat_then_linear_then_flat():
    anneal = IdentityAnneal(0.5, dict(end_weight=0.1, begin=0.25, end=0.75))
    weights = [anneal.weight(k, 100) for k in (0, 25, 50, 75, 99)]
    assert weights == pytest.approx([0.5, 0.5, 0.3, 0.1, 0.1])


def test_weight_may_rise_too():
    anneal = IdentityAnneal(0.1, dict(end_weight=0.5))
    assert anneal.weight(0, 10) == pytest.approx(0.1)
    assert anneal.weight(5, 10) == pytest.approx(0.3)


@pytest.mark.parametrize('cfg, match', [
    (dict(end_weight=0.1, stop=0.5), r"unknown keys \['stop'\]"),
    (dict(begin=0.5), 'needs end_weight'),
    (dict(end_weight=0.1, begin=0.5, end=0.5), 'begin < end'),
    (dict(end_weight=0.1, end=1.5), 'end must be <= 1'),
    (dict(end_weight=-0.1), 'end_weight must be >= 0'),
])
def test_bad_anneal_configs_name_the_mistake(cfg, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(dict(type='CycleGAN', identity_anneal=cfg, **_NET))


def test_anneal_without_identity_weight_is_an_error():
    with pytest.raises(ValueError, match='identity_weight > 0'):
        MODELS.build(dict(type='CycleGAN', identity_weight=0,
                          identity_anneal=dict(end_weight=0.1), **_NET))


def test_anneal_that_is_not_a_dict_is_an_error():
    with pytest.raises(TypeError, match='must be a dict'):
        MODELS.build(dict(type='CycleGAN', identity_anneal=0.1, **_NET))


def test_identity_terms_follow_the_current_weight():
    model = MODELS.build(dict(type='CycleGAN', identity_weight=0.5,
                              identity_anneal=dict(end_weight=0.1), **_NET))
    real = torch.zeros(1, 3, 16, 16)
    idt = torch.full((1, 3, 16, 16), 0.25)
    out = dict(real_a=real, real_b=real, fake_a=real, fake_b=real,
               rec_a=real, rec_b=real, idt_a=idt, idt_b=idt)
    terms = []
    for iteration in (0, 50, 100):
        _hub(f'anneal_terms_{iteration}', iter=iteration, max_iters=100)
        losses = model._generator_losses(out)
        assert losses['loss_identity_a'] == pytest.approx(
            losses['loss_identity_b'].item())
        terms.append(losses['loss_identity_a'].item())
    # weight x cycle weight 10 x L1 0.25, the weight going 0.5 -> 0.1.
    assert terms == pytest.approx([w * 10 * 0.25 for w in (0.5, 0.3, 0.1)])


def test_outside_a_runner_the_missing_position_is_named():
    model = MODELS.build(dict(type='CycleGAN',
                              identity_anneal=dict(end_weight=0.1), **_NET))
    _hub('anneal_no_position', iter=3)
    with pytest.raises(RuntimeError, match='max_iters'):
        model.identity_anneal.scale()


def test_a_runner_run_logs_the_annealed_weight(tmp_path):
    """tools/train.py: the Runner's MessageHub drives the line, and the
    weight of every iteration reaches the scalar log."""
    config = tmp_path / 'annealed.py'
    config.write_text(
        f'_base_ = [{TINY_CONFIG!r}]\n'
        'model = dict(identity_anneal=dict(end_weight=0.05, end=0.5))\n')
    train(tmp_path / 'work', config=str(config))
    log = glob.glob(osp.join(str(tmp_path / 'work'), '*', 'vis_data',
                             'scalars.json'))
    with open(log[0], encoding='utf-8') as f:
        rows = [json.loads(line) for line in f if line.strip()]
    logged = {r['step']: r['identity_weight'] for r in rows
              if 'identity_weight' in r}
    # The tiny run has 6 iterations: 0.5 -> 0.05 over the first 3.
    expected = {k + 1: max(0.5 - 0.45 * k / 3, 0.05) for k in range(6)}
    assert logged.keys() == expected.keys()
    for step, weight in expected.items():
        assert logged[step] == pytest.approx(weight, abs=1e-4), step
