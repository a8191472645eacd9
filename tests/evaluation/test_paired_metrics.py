"""PSNR / SSIM / colour distance and the paired translation metric."""
import math

import pytest
import torch
from scipy.ndimage import gaussian_filter

import mm_cyclegan  # noqa: F401
from mm_cyclegan.evaluation import (
    PairedTranslationMetric,
    color_distance,
    format_metric_table,
    paired_metrics,
    psnr,
    rgb_to_lab,
    ssim,
)
from mm_cyclegan.registry import METRICS

C1 = (0.01 * 1.0)**2
C2 = (0.03 * 1.0)**2


def _random_image(seed, shape=(3, 32, 32)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------- PSNR


def test_psnr_of_identical_images_is_infinite():
    x = _random_image(0)
    assert math.isinf(psnr(x, x).item())


def test_psnr_of_a_known_mse():
    x = torch.zeros(2, 3, 16, 16)
    y = torch.full((2, 3, 16, 16), 0.1)
    # MSE 0.01 -> 10 * log10(1 / 0.01) = 20 dB; a range of 2 adds 20 log10 2.
    assert torch.allclose(psnr(x, y), torch.full((2, ), 20.0,
                                                 dtype=torch.float64))
    assert psnr(x[0], y[0], data_range=2.0).item() == pytest.approx(
        20.0 + 20 * math.log10(2))


def test_psnr_is_per_image():
    x = torch.zeros(2, 1, 8, 8)
    y = torch.stack([torch.full((1, 8, 8), 0.1), torch.full((1, 8, 8), 0.01)])
    assert psnr(x, y).tolist() == pytest.approx([20.0, 40.0])


@pytest.mark.parametrize('fn', [psnr, ssim, color_distance])
def test_shape_mismatch_is_rejected(fn):
    with pytest.raises(ValueError, match='shape'):
        fn(torch.zeros(3, 16, 16), torch.zeros(3, 16, 17))
    with pytest.raises(ValueError, match='shape'):
        fn(torch.zeros(16, 16), torch.zeros(16, 16))


# ----------------------------------------------------------------- SSIM


def test_ssim_of_identical_images_is_one():
    x = _random_image(1)
    assert ssim(x, x).item() == pytest.approx(1.0)


def test_ssim_of_constant_images_is_the_luminance_term():
    x = torch.full((1, 3, 16, 16), 0.3)
    y = torch.full((1, 3, 16, 16), 0.5)
    expected = (2 * 0.3 * 0.5 + C1) / (0.3**2 + 0.5**2 + C1)
    assert ssim(x, y).item() == pytest.approx(expected)


def test_ssim_of_a_constant_shift_matches_the_luminance_formula():
    # A shift leaves variances and covariance unchanged, so SSIM reduces to
    # the luminance term of the Gaussian-weighted local means.
    x = _random_image(2, (1, 1, 24, 24)) * 0.5
    y = x + 0.2
    mu = gaussian_filter(x[0, 0].double().numpy(), sigma=1.5,
                         truncate=5 / 1.5)[5:-5, 5:-5]
    luminance = (2 * mu * (mu + 0.2) + C1) / (mu**2 + (mu + 0.2)**2 + C1)
    assert ssim(x, y).item() == pytest.approx(luminance.mean(), abs=1e-6)
    assert ssim(x, y).item() < 1.0


def test_ssim_of_an_inverted_image_is_negative():
    x = _random_image(3)
    assert ssim(x, 1.0 - x).item() < 0.0


def test_ssim_rejects_images_smaller_than_the_window():
    with pytest.raises(ValueError, match='window'):
        ssim(torch.zeros(3, 8, 8), torch.zeros(3, 8, 8))


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip('skimage.metrics')
    x, y = _random_image(4), _random_image(5)
    y = 0.6 * x + 0.4 * y
    reference = metrics.structural_similarity(
        x.permute(1, 2, 0).numpy(), y.permute(1, 2, 0).numpy(),
        channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False)
    assert ssim(x, y).item() == pytest.approx(reference, abs=1e-4)


# --------------------------------------------------------- colour distance


def test_rgb_to_lab_reference_colours():
    rgb = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    lab = rgb_to_lab(rgb.view(3, 3, 1, 1)).view(3, 3)
    # Published CIELAB (D65) values of sRGB white, black and red.
    expected = torch.tensor([[100.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                             [53.24, 80.09, 67.20]], dtype=torch.float64)
    assert torch.allclose(lab, expected, atol=0.05)


def test_color_distance_of_black_and_white_is_100():
    black, white = torch.zeros(3, 16, 16), torch.ones(3, 16, 16)
    assert color_distance(black, black).item() == pytest.approx(0.0)
    assert color_distance(black, white).item() == pytest.approx(100.0,
                                                                abs=1e-3)


def test_color_distance_shrugs_off_a_misplaced_line_but_not_a_recolour():
    base = torch.full((3, 64, 64), 0.7)
    line_here, line_there = base.clone(), base.clone()
    line_here[:, :, 20] = 0.1
    line_there[:, :, 21] = 0.1
    recoloured = line_here.clone()
    recoloured[0] *= 0.5
    # The line moved by a pixel: PSNR collapses, block colours barely move.
    assert psnr(line_here, line_there).item() < 25
    assert color_distance(line_here, line_there).item() < 2.0
    assert color_distance(line_here, recoloured).item() > 10.0


# --------------------------------------------------------------- metric


def _sample(real_a, real_b, fake_a, fake_b, paired=True, valid_b=True):
    return dict(real_a=real_a, real_b=real_b, fake_a=fake_a, fake_b=fake_b,
                paired=paired, valid_a=True, valid_b=valid_b)


def test_metric_scores_models_against_truth_and_identity():
    metric = PairedTranslationMetric()
    real_a = torch.full((3, 32, 32), 0.2)  # 0.6 in [0, 1]
    real_b = torch.zeros(3, 32, 32)  # 0.5 in [0, 1]
    fake_b = real_b.clone()  # a perfect a2b
    fake_a = torch.full((3, 32, 32), 0.0)  # b2a returns its input
    metric.process({}, [_sample(real_a, real_b, fake_a, fake_b)])
    result = metric.compute_metrics(metric.results)
    assert math.isinf(result['a2b_psnr'])
    assert result['a2b_ssim'] == pytest.approx(1.0)
    assert result['a2b_color'] == pytest.approx(0.0)
    # |0.6 - 0.5| everywhere -> 20 dB for the identity baseline.
    assert result['a2b_psnr_identity'] == pytest.approx(20.0)
    assert result['b2a_psnr'] == pytest.approx(20.0)
    assert result['b2a_psnr_identity'] == pytest.approx(20.0)
    assert result['b2a_ssim'] == pytest.approx(result['b2a_ssim_identity'])
    assert result['b2a_color'] == pytest.approx(result['a2b_color_identity'])
    assert set(result) == {
        f'{d}_{m}{s}'
        for d in ('a2b', 'b2a') for m in ('psnr', 'ssim', 'color')
        for s in ('', '_identity')
    }


def test_metric_averages_samples_and_skips_unpaired_ones():
    metric = PairedTranslationMetric()
    zeros = torch.zeros(3, 16, 16)
    near = torch.full((3, 16, 16), 0.2)  # 0.1 away in [0, 1]: 20 dB
    far = torch.full((3, 16, 16), 0.02)  # 0.01 away: 40 dB
    junk = torch.full((3, 16, 16), -1.0)
    metric.process({}, [
        _sample(zeros, zeros, near, near),
        _sample(junk, junk, junk, junk, paired=False),
        _sample(zeros, zeros, far, far),
        _sample(junk, junk, junk, junk, valid_b=torch.tensor(False)),
    ])
    assert len(metric.results) == 2
    result = metric.compute_metrics(metric.results)
    assert result['a2b_psnr'] == pytest.approx(30.0)


def test_metric_without_paired_samples_warns_and_returns_nothing(
        monkeypatch):
    messages = []
    monkeypatch.setattr(paired_metrics, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    metric = PairedTranslationMetric()
    x = torch.zeros(3, 16, 16)
    metric.process({}, [_sample(x, x, x, x, paired=False)])
    assert metric.compute_metrics(metric.results) == {}
    assert messages and 'no paired samples' in messages[0]


def test_metric_from_registry_prefixes_its_names():
    metric = METRICS.build(dict(type='PairedTranslationMetric'))
    x = torch.zeros(3, 16, 16)
    metric.process({}, [_sample(x, x, x, torch.full_like(x, 0.2))])
    result = metric.evaluate(1)
    assert result['paired/a2b_psnr'] == pytest.approx(20.0)
    assert 'paired/b2a_ssim_identity' in result


def test_metric_rejects_a_paired_sample_without_fakes():
    metric = PairedTranslationMetric()
    x = torch.zeros(3, 16, 16)
    sample = _sample(x, x, x, x)
    del sample['fake_b']
    with pytest.raises(KeyError, match='fake_b'):
        metric.process({}, [sample])


def test_format_metric_table():
    metrics = {
        'paired/a2b_psnr': 22.5, 'paired/a2b_psnr_identity': 15.25,
        'paired/a2b_ssim': 0.8, 'paired/a2b_ssim_identity': 0.5,
        'paired/a2b_color': 4.0, 'paired/a2b_color_identity': 28.0,
        'paired/b2a_psnr': 20.0
    }
    table = format_metric_table(metrics)
    rows = {line.split()[0]: line for line in table.splitlines()}
    assert '+7.25' in rows['a2b'] and '22.50' in rows['a2b']
    assert '0.800' in rows['a2b'] and '28.00' in rows['a2b']
    assert '20.00' in rows['b2a'] and rows['b2a'].count('n/a') == 6
    assert len(rows['a2b']) == len(rows['b2a'])
    for word in ('PSNR', 'SSIM', 'colour', 'gain'):
        assert word in table
