"""TranslationMetric glue: counting, identity baseline, fallback, writer."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from PIL import Image

from mm_cyclegan.engine.preflight import preflight_inception
from mm_cyclegan.evaluation import (
    InceptionWeightsMissing,
    TranslationImageWriter,
    TranslationMetric,
    add_image_writer,
)
from mm_cyclegan.evaluation.inception import WEIGHTS_FILENAME
from mm_cyclegan.registry import METRICS
from tests.inception_weights import inception_weights  # noqa: F401


def _image(seed, dark=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(1, 3, 4, 4, generator=g),
                                        size=32, mode='bilinear')[0]
    if dark:
        x = x * 0.3
    return (x * 255).round() / 127.5 - 1  # on the 8-bit grid


def _samples(n, valid_b=None, fake_b_is_real_b=False):
    """n samples; a = bright images, b = dark ones; fakes are inputs."""
    out = []
    for i in range(n):
        real_a, real_b = _image(i), _image(100 + i, dark=True)
        out.append(dict(
            real_a=real_a, real_b=real_b,
            fake_b=real_b.clone() if fake_b_is_real_b else real_a.clone(),
            fake_a=real_b.clone(),
            rec_a=real_a + 0.1, rec_b=real_b.clone(),
            path_a=f'a/{i}.png', path_b=f'b/{i}.png',
            valid_a=True,
            valid_b=True if valid_b is None else i < valid_b))
    return out


def _run(metric, batches):
    for batch in batches:
        metric.process(None, batch)
    return metric.evaluate(sum(len(b) for b in batches))


def test_each_image_counts_once_and_identity_baseline(inception_weights):  # noqa: F811
    metric = METRICS.build(dict(type='TranslationMetric',
                                inception_weights=inception_weights,
                                input_size=80, kid_subsets=5))
    samples = _samples(5, valid_b=3, fake_b_is_real_b=True)
    # The same batch twice (e.g. padded by a distributed sampler).
    metrics = _run(metric, [samples, samples[:2]])
    assert list(metrics)[0] == 'fid_mean'
    assert metrics['a2b/num_fake'] == 5 and metrics['a2b/num_real'] == 3
    assert metrics['b2a/num_fake'] == 3 and metrics['b2a/num_real'] == 5
    assert metrics['a2b/kid_subset_size'] == 3
    # b2a outputs its inputs: exactly the identity baseline.
    assert metrics['b2a/fid'] == pytest.approx(metrics['b2a/fid_identity'])
    assert metrics['b2a/change_l1'] == 0
    assert metrics['b2a/fid'] > 1e-3
    # rec_a is off by 0.1 in [-1, 1], i.e. 0.05 in [0, 1] units.
    assert metrics['a2b/cycle_l1'] == pytest.approx(0.05, abs=1e-6)
    assert metrics['b2a/cycle_l1'] == 0
    for key in ('a2b/kid', 'a2b/kid_std', 'b2a/kid', 'kid_mean',
                'a2b/color_gap', 'a2b/color_gap_identity'):
        assert key in metrics


def test_outputs_equal_to_the_target_set_score_zero(inception_weights):  # noqa: F811
    metric = TranslationMetric(inception_weights=inception_weights,
                               input_size=80, kid_subsets=5)
    metrics = _run(metric, [_samples(4, fake_b_is_real_b=True)])
    assert abs(metrics['a2b/fid']) < 1e-6
    assert abs(metrics['a2b/color_gap']) < 1e-9
    assert metrics['a2b/fid_identity'] > 1e-3
    assert abs(metrics['a2b/kid']) < abs(metrics['a2b/kid_identity'])


def test_max_samples_caps_each_domain(inception_weights):  # noqa: F811
    metric = TranslationMetric(inception_weights=inception_weights,
                               input_size=80, kid_subsets=2, max_samples=3)
    metrics = _run(metric, [_samples(5)])
    assert metrics['a2b/num_fake'] == 3 and metrics['b2a/num_fake'] == 3
    # The cap is per evaluation, not per run.
    assert _run(metric, [_samples(5)])['a2b/num_fake'] == 3


def _no_weights(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION', raising=False)


def test_missing_weights_fail_at_construction(monkeypatch, tmp_path):
    _no_weights(monkeypatch, tmp_path)
    with pytest.raises(InceptionWeightsMissing, match=WEIGHTS_FILENAME):
        TranslationMetric()
    cfg = Config(dict(val_evaluator=dict(type='TranslationMetric')))
    message = preflight_inception(cfg)
    assert WEIGHTS_FILENAME in message and 'fallback' in message
    cfg = Config(dict(val_evaluator=dict(type='TranslationMetric',
                                         missing_weights='fallback')))
    assert preflight_inception(cfg) is None


def test_fallback_warns_once_and_reports_cheap_statistics(monkeypatch,
                                                          tmp_path):
    _no_weights(monkeypatch, tmp_path)
    monkeypatch.setattr('mm_cyclegan.evaluation.translation_metric._WARNED',
                        set())
    log_file = tmp_path / 'run.log'
    MMLogger.get_instance('fallback-test', log_file=str(log_file))
    metrics = [TranslationMetric(missing_weights='fallback')
               for _ in range(2)]
    result = _run(metrics[1], [_samples(4, fake_b_is_real_b=True)])
    assert list(result)[0] == 'cycle_l1_mean'
    assert not any('fid' in key or 'kid' in key for key in result)
    assert result['a2b/change_l1'] > 0 and result['b2a/change_l1'] == 0
    assert result['a2b/color_gap'] == 0 and result['b2a/color_gap'] == \
        result['b2a/color_gap_identity'] > 0
    text = log_file.read_text()
    assert text.count(WEIGHTS_FILENAME + ' (pytorch-fid') == 1
    assert 'cycle-reconstruction error' in text


def test_image_writer_saves_each_valid_output(tmp_path):
    cfg = Config(dict(test_evaluator=dict(type='TranslationMetric')))
    add_image_writer(cfg, str(tmp_path / 'out'))
    writer_cfg = cfg.test_evaluator[1]
    writer = METRICS.build(writer_cfg)
    assert isinstance(writer, TranslationImageWriter)
    samples = _samples(3, valid_b=2)
    writer.process(None, samples)
    assert writer.evaluate(3) == {}
    a2b = sorted(p.name for p in (tmp_path / 'out' / 'a2b').iterdir())
    b2a = sorted(p.name for p in (tmp_path / 'out' / 'b2a').iterdir())
    assert a2b == ['0.png', '1.png', '2.png'] and b2a == ['0.png', '1.png']
    saved = torch.from_numpy(
        __import__('numpy').asarray(
            Image.open(osp.join(tmp_path, 'out', 'a2b', '1.png'))))
    expected = ((samples[1]['fake_b'] + 1) * 127.5).round().permute(1, 2, 0)
    assert torch.equal(saved.float(), expected)
