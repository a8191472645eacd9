"""tools/fid.py: FID/KID between two folders, equal to pytorch-fid's FID on
the same images and weights file.

The folders (blocky random PNGs, numpy's PCG64, so the same on every
machine) and the Inception weights (random, seed 0, in pytorch-fid's
layout: tests/inception_weights.py) are written by the test.

PYTORCH_FID_FID was computed once (2026-12-05, 2-core AMD EPYC Zen 3,
torch 2.14.1 CPU, pytorch-fid 0.3.0 installed with ``pip install
pytorch-fid --no-deps``) by :func:`test_equal_to_pytorch_fid_when_installed`
's call, ``calculate_fid_given_paths([A, B], 50, 'cpu', 2048, 0)`` with
TORCH_HOME pointing at the random weights file; that test re-checks it
whenever pytorch-fid is installed, this number keeps the parity checked
when it is not.
"""
import importlib.util
import json
import os

import numpy as np
import pytest
from PIL import Image

from tests.inception_weights import write_random_inception_weights
from tools import fid as fid_tool

PYTORCH_FID_FID = 6.580666005329533
NUM_IMAGES = 12
WEIGHTS_NAME = 'pt_inception-2015-12-05-6726825d.pth'


def _write_folder(root, count, shift, seed):
    """``count`` 64 px PNGs: 8 x 8 random colour blocks in [shift, 255]."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    for k in range(count):
        low = rng.integers(0, 256 - shift, (8, 8, 3)) + shift
        image = np.repeat(np.repeat(low, 8, 0), 8, 1).astype(np.uint8)
        Image.fromarray(image).save(os.path.join(root, f'{k:03d}.png'))
    return str(root)


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    """(folder A, folder B, torch home holding the weights file)."""
    base = tmp_path_factory.mktemp('fid')
    hub = base / 'torch' / 'hub' / 'checkpoints'
    hub.mkdir(parents=True)
    write_random_inception_weights(str(hub / WEIGHTS_NAME), seed=0)
    return (_write_folder(base / 'A', NUM_IMAGES, 0, 1),
            _write_folder(base / 'B', NUM_IMAGES, 40, 2), str(base / 'torch'))


@pytest.fixture(scope='module')
def ours(folders):
    """tools/fid.py's JSON result (weights found in the torch hub cache,
    as pytorch-fid finds them)."""
    folder_a, folder_b, torch_home = folders
    env = dict(os.environ)
    os.environ['TORCH_HOME'] = torch_home
    os.environ.pop('MM_CYCLEGAN_INCEPTION', None)
    try:
        import io
        from contextlib import redirect_stdout
        out = io.StringIO()
        with redirect_stdout(out):
            code = fid_tool.main([folder_a, folder_b, '--json',
                                  '--no-progress'])
    finally:
        os.environ.clear()
        os.environ.update(env)
    assert code == 0
    return json.loads(out.getvalue())


def test_equal_to_pytorch_fid_stored_number(ours):
    assert abs(ours['fid'] - PYTORCH_FID_FID) <= 1e-3, ours['fid']
    assert ours['num_a'] == ours['num_b'] == NUM_IMAGES
    assert ours['weights'].endswith(WEIGHTS_NAME)
    # KID of two different distributions: positive, on all the images.
    assert ours['kid'] > 0 and ours['kid_std'] >= 0
    assert ours['kid_subset_size'] == NUM_IMAGES


@pytest.mark.slow  # pytorch-fid's 2048 x 2048 sqrtm: ~30-80 s on 2 cores
@pytest.mark.skipif(importlib.util.find_spec('pytorch_fid') is None,
                    reason='pytorch-fid is not installed (pip install '
                    'pytorch-fid --no-deps); the stored number is checked')
def test_equal_to_pytorch_fid_when_installed(folders, ours, monkeypatch):
    from pytorch_fid.fid_score import calculate_fid_given_paths
    folder_a, folder_b, torch_home = folders
    # pytorch-fid finds the (random) weights in the hub cache: no download.
    monkeypatch.setenv('TORCH_HOME', torch_home)
    theirs = calculate_fid_given_paths([folder_a, folder_b], 50, 'cpu',
                                       2048, 0)
    assert abs(ours['fid'] - float(theirs)) <= 1e-3, (ours['fid'], theirs)


def test_missing_weights_is_a_clear_error_without_download(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty'))
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION', raising=False)
    folder = _write_folder(tmp_path / 'A', 2, 0, 0)
    assert fid_tool.main([folder, folder]) == 2
    err = capsys.readouterr().err
    assert WEIGHTS_NAME in err and 'Nothing is downloaded' in err
    assert not (tmp_path / 'empty').exists()


def test_bad_folders_are_named(tmp_path, capsys):
    weights = write_random_inception_weights(str(tmp_path / 'w.pth'))
    one = _write_folder(tmp_path / 'one', 1, 0, 0)
    assert fid_tool.main([one, str(tmp_path / 'nope'), '--inception',
                          weights]) == 2
    assert "folder_b='" in capsys.readouterr().err
    assert fid_tool.main([one, one, '--inception', weights,
                          '--no-progress']) == 2
    assert 'at least 2 images' in capsys.readouterr().err


def test_fid_stats_says_what_it_does_and_shows_progress(tmp_path, capsys):
    from tools import fid_stats
    weights = write_random_inception_weights(str(tmp_path / 'w.pth'))
    folder = _write_folder(tmp_path / 'A', 3, 0, 0)
    assert fid_stats.main([folder, '--cache-dir', str(tmp_path / 'cache'),
                           '--weights', weights]) == 0
    captured = capsys.readouterr()
    assert 'Loading the Inception network' in captured.out
    assert 'written' in captured.out
    assert '3/3' in captured.err  # the bar over the folder's images
