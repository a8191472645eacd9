"""The FID Inception loader: weights search, strict keys, MMagic parity."""
import numpy as np
import pytest
import torch

from mm_cyclegan.evaluation import (
    InceptionFeatureExtractor,
    InceptionWeightsMissing,
    fid_from_features,
    find_inception_weights,
    kernel_inception_distance,
)
from mm_cyclegan.evaluation.inception import (
    WEIGHTS_FILENAME,
    get_feature_extractor,
)
from tests.inception_weights import inception_weights  # noqa: F401


def _images(seed, n, size=48):
    """uint8-grid RGB images in [0, 1] with some structure."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, 6, 6, generator=g)
    images = torch.nn.functional.interpolate(base, size=size,
                                             mode='bilinear')
    images = images + 0.1 * torch.rand(n, 3, size, size, generator=g)
    return (images.clamp(0, 1) * 255).round() / 255


def test_missing_weights_name_the_file_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION', raising=False)
    with pytest.raises(InceptionWeightsMissing) as info:
        find_inception_weights()
    message = str(info.value)
    assert WEIGHTS_FILENAME in message
    assert str(tmp_path / 'torch' / 'hub' / 'checkpoints') in message
    assert 'MM_CYCLEGAN_INCEPTION' in message and 'https://' in message
    with pytest.raises(InceptionWeightsMissing, match='typo.pth'):
        find_inception_weights(str(tmp_path / 'typo.pth'))


def test_weights_are_found_by_env_then_hub_cache(tmp_path, monkeypatch,
                                                 inception_weights):  # noqa: F811
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.setenv('MM_CYCLEGAN_INCEPTION', inception_weights)
    assert find_inception_weights() == inception_weights
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION')
    cached = tmp_path / 'torch' / 'hub' / 'checkpoints' / WEIGHTS_FILENAME
    cached.parent.mkdir(parents=True)
    cached.symlink_to(inception_weights)
    assert find_inception_weights() == str(cached)


def test_loading_is_strict_about_keys(tmp_path, inception_weights):  # noqa: F811
    state = torch.load(inception_weights, weights_only=True)
    missing = dict(state)
    missing.pop('Mixed_7c.branch_pool.conv.weight')
    torch.save(missing, tmp_path / 'missing.pth')
    with pytest.raises(ValueError, match='Missing key'):
        InceptionFeatureExtractor(str(tmp_path / 'missing.pth'))
    extra = dict(state, **{'aux.weight': torch.zeros(1)})
    torch.save(extra, tmp_path / 'extra.pth')
    with pytest.raises(ValueError, match='Unexpected key'):
        InceptionFeatureExtractor(str(tmp_path / 'extra.pth'))


def test_identical_sets_give_zero_fid_and_kid(inception_weights):  # noqa: F811
    extractor = get_feature_extractor(inception_weights, input_size=80)
    a = _images(0, 5)
    b = (a * 0.3 + 0.6 + 0.1 * _images(1, 5)).clamp(0, 1)  # washed out
    fa, fb = extractor(a), extractor(b)
    assert fa.shape == (5, 2048) and fa.std() > 1e-3
    assert abs(fid_from_features(fa, extractor(a.clone()))) < 1e-6
    different = fid_from_features(fa, fb)
    assert different > 1e-3
    kid_same = kernel_inception_distance(fa, fa, num_subsets=5)['mean']
    kid_diff = kernel_inception_distance(fa, fb, num_subsets=5)['mean']
    assert abs(kid_same) < kid_diff / 5


def test_clean_resize_differs_from_bilinear(inception_weights):  # noqa: F811
    images = _images(2, 3, size=160)
    bilinear = get_feature_extractor(inception_weights, input_size=80)
    clean = get_feature_extractor(inception_weights, resize='clean',
                                  input_size=80)
    features = clean(images)
    assert not np.allclose(bilinear(images), features, rtol=1e-3)
    assert abs(fid_from_features(features, clean(images.clone()))) < 1e-6


def _hub_with(tmp_path, monkeypatch, weights):
    """A torch hub cache holding ``weights`` under the standard name."""
    hub = tmp_path / 'torch' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    (hub / WEIGHTS_FILENAME).symlink_to(weights)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    return str(hub / WEIGHTS_FILENAME)


def test_features_and_fid_equal_mmagics_inception(tmp_path, monkeypatch,
                                                  inception_weights):  # noqa: F811
    """MMagic's pytorch-fid InceptionV3 wrapper (what TransFID runs), the
    same weights file and images: same features, same FID.

    Both at 80 px to stay fast: the wrapper's own 299 resize is off and
    the images are resized with pytorch-fid's call before it; the full
    TransFID comparison at 299 is the slow test below.
    """
    path = _hub_with(tmp_path, monkeypatch, inception_weights)
    from mmagic.evaluation.functional.fid_inception import InceptionV3
    reference = InceptionV3([3], resize_input=False,
                            normalize_input=True).eval()
    real, fake = _images(5, 3), _images(6, 3)

    def mmagic_features(x):
        x = torch.nn.functional.interpolate(x, size=(80, 80),
                                            mode='bilinear',
                                            align_corners=False)
        with torch.no_grad():
            return reference(x)[0].flatten(1).double().numpy()

    ours = get_feature_extractor(path, input_size=80)
    np.testing.assert_allclose(ours(real), mmagic_features(real),
                               rtol=1e-4, atol=1e-5)
    assert fid_from_features(ours(fake), ours(real)) == pytest.approx(
        fid_from_features(mmagic_features(fake), mmagic_features(real)),
        abs=1e-3)


@pytest.mark.slow
def test_fid_equals_mmagic_transfid(tmp_path, monkeypatch,
                                    inception_weights):  # noqa: F811
    """Same images, same weights file: our FID vs MMagic's TransFID.

    TransFID (``inception_style='PyTorch'``) loads the file from the torch
    hub cache (no download when it is there), takes BGR images in [0, 255]
    and resizes inside pytorch-fid's InceptionV3 wrapper.
    """
    path = _hub_with(tmp_path, monkeypatch, inception_weights)
    from mmagic.evaluation.metrics.fid import TransFID
    reference = TransFID(fake_nums=3, inception_style='PyTorch',
                         fake_key='fake_b', real_key='img_b',
                         sample_model='orig')
    real, fake = _images(3, 3), _images(4, 3)

    def bgr255(x):
        return x[:, [2, 1, 0]] * 255

    real_features = reference.forward_inception(bgr255(real)).numpy()
    reference.real_mean = real_features.mean(0)
    reference.real_cov = np.cov(real_features, rowvar=False)
    reference.process(None, [dict(fake_b=img) for img in bgr255(fake)])
    expected = reference.compute_metrics(reference.fake_results)['fid']

    ours = InceptionFeatureExtractor(path)
    fid = fid_from_features(ours(fake), ours(real))
    assert fid == pytest.approx(expected, abs=1e-3)
