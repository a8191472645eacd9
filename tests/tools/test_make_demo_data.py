"""tools/make_demo_data.py writes the CycleGAN layout of the demo data."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

import mm_cyclegan  # noqa: F401
from mm_cyclegan.datasets.procedural import (
    make_scene,
    render_anime,
    render_photo,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'make_demo_data.py')
sys.path.insert(0, osp.join(ROOT, 'tools'))
import make_demo_data  # noqa: E402


def _read_rgb(path):
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image[..., ::-1]


def _seeds(folder):
    return sorted(int(name[:-4]) for name in os.listdir(folder))


def test_cli_writes_the_cyclegan_layout(tmp_path):
    out = tmp_path / 'demo'
    result = subprocess.run(
        [sys.executable, TOOL, '--out', str(out), '--num-train', '3',
         '--num-test', '2', '--size', '32'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == [
        'procedural.json', 'testA', 'testB', 'trainA', 'trainB'
    ]
    assert _seeds(out / 'trainA') == [0, 1, 2]
    assert _seeds(out / 'trainB') == [1_000_000, 1_000_001, 1_000_002]
    # Test images pair up by name: the same scene in both styles.
    assert _seeds(out / 'testA') == _seeds(out / 'testB') == [
        2_000_000, 2_000_001
    ]
    for seed in _seeds(out / 'testA'):
        scene = make_scene(seed)
        name = f'{seed:08d}.png'
        photo = _read_rgb(str(out / 'testA' / name))
        anime = _read_rgb(str(out / 'testB' / name))
        assert photo.shape == (32, 32, 3)
        # PNG is lossless and the channel order survives the round trip.
        assert np.array_equal(photo, render_photo(scene, 32))
        assert np.array_equal(anime, render_anime(scene, 32))
    manifest = json.loads((out / 'procedural.json').read_text())
    assert manifest['size'] == 32 and manifest['num_train'] == 3
    assert 'rendering' in result.stderr  # the progress bar


def test_refuses_a_non_empty_folder_unless_overwriting(tmp_path):
    out = str(tmp_path / 'demo')
    args = ['--out', out, '--num-test', '1', '--size', '16', '--quiet']
    make_demo_data.main(args + ['--num-train', '3'])
    with pytest.raises(SystemExit, match='--overwrite'):
        make_demo_data.main(args + ['--num-train', '2'])
    make_demo_data.main(args + ['--num-train', '2', '--overwrite'])
    # Stale images of the earlier, larger run are gone.
    assert _seeds(osp.join(out, 'trainA')) == [0, 1]


def test_overlapping_seed_ranges_are_an_error(tmp_path):
    out = str(tmp_path / 'demo')
    with pytest.raises(SystemExit, match='train-seed-offset-b'):
        make_demo_data.main(['--out', out, '--num-train', '5',
                             '--train-seed-offset-b', '3', '--quiet'])
    assert not osp.exists(out)
