"""TrainingHealthHook: each symptom provoked for real, and a healthy run."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mm_cyclegan.engine import CycleGANRunner
from mm_cyclegan.engine.hooks import TrainingHealthHook
from mm_cyclegan.engine.hooks.training_health_hook import output_statistics
from mm_cyclegan.registry import MODELS
from tests.helpers import TINY_CONFIG


@MODELS.register_module(force=True)
class ConstantTestGenerator(nn.Module):
    """Ignores its input: the same flat image for every input."""

    def __init__(self, in_channels=3, out_channels=3, **kwargs):
        super().__init__()
        self.value = nn.Parameter(torch.full((1, out_channels, 1, 1), 0.3))

    def forward(self, x):
        return self.value.expand(x.shape[0], -1, x.shape[2], x.shape[3]) \
            + 0 * x


@MODELS.register_module(force=True)
class InvertingTestGenerator(nn.Module):
    """Outputs the colour-inverted input (trainable scale)."""

    def __init__(self, in_channels=3, out_channels=3, **kwargs):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return -self.scale * x


def _run(tmp_path, generator=None, iters=4):
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(tmp_path)
    # Unique per run: MMEngine names its logger after the config and a
    # timestamp in whole seconds, so two runs in one second share a log.
    cfg.experiment_name = f'health_{tmp_path.name}'
    cfg.train_cfg.max_iters = iters
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**6)
    cfg.custom_hooks = [
        dict(type='ImagePoolHook', pool_size=2, swap_prob=0.5),
        dict(type='TrainingHealthHook', interval=2, num_samples=4),
    ]
    if generator:
        # Only a2b is broken; b2a stays the tiny ResNet.
        cfg.model.generator_b2a = dict(cfg.model.generator_a2b)
        cfg.model.generator_a2b = dict(type=generator, in_channels=3,
                                       out_channels=3)
    runner = CycleGANRunner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks
                if isinstance(h, TrainingHealthHook))
    log = glob.glob(osp.join(runner.log_dir, '*.log'))[0]
    with open(log, encoding='utf-8') as f:
        text = f.read()
    scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    with open(scalars, encoding='utf-8') as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return hook, text, [r for r in rows if any(k.startswith('health/')
                                               for k in r)]


def test_constant_generator_is_reported_as_constant_and_collapsed(tmp_path):
    hook, log, health = _run(tmp_path, 'ConstantTestGenerator')
    symptoms = {(s, d) for _, s, d in hook.events}
    assert ('constant_output', 'a2b') in symptoms
    assert ('mode_collapse', 'a2b') in symptoms
    assert all(d == 'a2b' for _, _, d in hook.events)
    assert 'constant output (a2b)' in log and 'mode collapse (a2b)' in log
    assert 'Remedy' in log
    # Warned once per symptom despite two checks (cooldown), but flagged
    # in the scalars at every check.
    assert log.count('constant output (a2b)') == 1
    assert [r['health/constant_output_a2b'] for r in health] == [1.0, 1.0]
    assert [r['health/constant_output_b2a'] for r in health] == [0.0, 0.0]


def test_inverting_generator_is_reported_with_the_identity_remedy(tmp_path):
    hook, log, health = _run(tmp_path, 'InvertingTestGenerator', iters=2)
    assert {(s, d) for _, s, d in hook.events} == {('color_inversion',
                                                    'a2b')}
    assert 'colour inversion' not in log  # the symptom name, not prose
    assert 'color inversion (a2b)' in log and 'identity_weight' in log
    assert health[0]['health/input_correlation_a2b'] == pytest.approx(
        -1.0, abs=1e-6)


def test_healthy_tiny_run_raises_nothing(tmp_path):
    hook, log, health = _run(tmp_path, iters=4)
    assert hook.events == []
    assert 'TrainingHealthHook:' not in log
    assert len(health) == 2 and 'health/diversity_a2b' in health[0]


def test_discriminator_winning_needs_low_loss_and_rising_generator_loss():
    hook = TrainingHealthHook(patience=3, d_loss_threshold=0.05)
    low = [0.01, 0.02, 0.01]
    assert hook.discriminator_wins(low, [0.5, 0.6, 0.7, 0.9])
    # Generator loss not rising for the whole window.
    assert not hook.discriminator_wins(low, [0.5, 0.7, 0.6, 0.9])
    # One interval where the discriminator was not winning.
    assert not hook.discriminator_wins([0.01, 0.2, 0.01],
                                       [0.5, 0.6, 0.7, 0.9])
    # Too early to tell.
    assert not hook.discriminator_wins(low[:2], [0.5, 0.6, 0.7])


def test_discriminator_winning_fires_in_a_real_run(tmp_path):
    """A hook fed the losses of a run where D wins (driven by the runner's
    own after_train_iter calls through a wrapper that rewrites the loss
    outputs) warns; the generator checks stay quiet."""

    class Forced(TrainingHealthHook):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            step = runner.iter
            outputs = dict(outputs, loss_d_b=torch.tensor(0.001),
                           loss_gan_a2b=torch.tensor(0.5 + 0.1 * step))
            super().after_train_iter(runner, batch_idx, data_batch, outputs)

    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'health_{tmp_path.name}'
    cfg.train_cfg.max_iters = 6
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**6)
    cfg.custom_hooks = []
    runner = CycleGANRunner.from_cfg(cfg)
    hook = Forced(interval=1, patience=3, stop_on=['discriminator_wins'])
    runner.register_hook(hook)
    runner.train()
    assert ('discriminator_wins', 'a2b') in {(s, d)
                                            for _, s, d in hook.events}
    # stop_on ended the run at the first warning (iteration 4 of 6).
    assert runner.iter == 4


def test_output_statistics_on_synthetic_batches():
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    same = output_statistics(x, x)
    assert same['diversity'] == pytest.approx(1.0)
    assert same['input_correlation'] == pytest.approx(1.0)
    inverted = output_statistics(x, -x)
    assert inverted['input_correlation'] == pytest.approx(-1.0)
    flat = output_statistics(x, torch.zeros_like(x))
    assert flat['spatial_std'] == 0 and flat['diversity'] == 0


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match='stop_on'):
        TrainingHealthHook(stop_on=['nan'])
    with pytest.raises(ValueError, match='num_samples'):
        TrainingHealthHook(num_samples=1)
