"""tools/fid_stats.py: cached real features, used by TranslationMetric."""
import os.path as osp
import runpy

import numpy as np
import torch
from PIL import Image

from mm_cyclegan.evaluation import TranslationMetric
from mm_cyclegan.evaluation.translation_metric import image_digest
from tests.helpers import REPO
from tests.inception_weights import inception_weights  # noqa: F401

TOOL = osp.join(REPO, 'tools', 'fid_stats.py')


def _folder(path, seed, n=3):
    path.mkdir()
    rng = np.random.default_rng(seed)
    arrays = []
    for i in range(n):
        array = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(array).save(path / f'{i}.png')
        arrays.append(array)
    return arrays


def test_fid_stats_caches_and_metric_reuses(tmp_path, capsys,
                                            inception_weights):  # noqa: F811
    arrays = _folder(tmp_path / 'testB', 0)
    main = runpy.run_path(TOOL, run_name='fid_stats')['main']
    argv = [str(tmp_path / 'testB'), '--cache-dir', str(tmp_path / 'cache'),
            '--weights', inception_weights, '--input-size', '80']
    assert main(argv) == 0
    assert 'written' in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert 'up to date' in out
    cache = out.split()[-1]
    with np.load(cache) as data:
        assert data['features'].shape == (3, 2048)
        assert data['mu'].shape == (2048,)
        assert data['sigma'].shape == (2048, 2048)
        digests = list(data['digests'])

    # The same images as a test split yields them: cache hits.
    reals_b = [torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1
               for a in arrays]
    assert [image_digest(((x + 1) * 127.5).round().to(torch.uint8))
            for x in reals_b] == digests
    cached = TranslationMetric(inception_weights=inception_weights,
                               input_size=80, kid_subsets=2,
                               stats_cache_dir=str(tmp_path / 'cache'))
    assert set(digests) <= set(cached._real_features)
    # A cached feature is what the network gives for that image.
    fresh = cached.extractor((reals_b[1][None] + 1) / 2)[0]
    np.testing.assert_allclose(cached._real_features[digests[1]], fresh,
                               rtol=1e-5, atol=1e-6)


def test_fid_stats_without_weights_says_where_to_put_them(tmp_path,
                                                          monkeypatch,
                                                          capsys):
    _folder(tmp_path / 'testA', 1, n=1)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION', raising=False)
    main = runpy.run_path(TOOL, run_name='fid_stats')['main']
    assert main([str(tmp_path / 'testA'), '--cache-dir',
                 str(tmp_path / 'cache')]) == 2
    assert 'pt_inception-2015-12-05-6726825d.pth' in capsys.readouterr().err
