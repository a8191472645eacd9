"""tools/translate.py: every input kind, failures, refusals, restarts."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mm_cyclegan.apis import Translator
from tests.apis.fixtures import write_checkpoint
from tools import translate


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'iter_7.pth'
    write_checkpoint(path)
    return str(path)


def _noise(height, width, channels=3, dtype=np.uint8, seed=0):
    top = 65535 if dtype == np.uint16 else 255
    rng = np.random.default_rng(seed)
    return rng.integers(0, top + 1, (height, width, channels), dtype=dtype)


def _write_bgr(path, rgb):
    """cv2.imwrite with RGB(A) input."""
    if rgb.shape[2] == 3:
        rgb = rgb[:, :, ::-1]
    elif rgb.shape[2] == 4:
        rgb = rgb[:, :, [2, 1, 0, 3]]
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb))


def _read(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image.ndim == 3 and image.shape[2] == 3:
        return image[:, :, ::-1]
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, [2, 1, 0, 3]]
    return image


@pytest.fixture
def photos(tmp_path):
    """A folder with every input kind plus a corrupt file."""
    root = tmp_path / 'photos'
    (root / 'sub').mkdir(parents=True)
    _write_bgr(root / 'odd.png', _noise(131, 257))
    _write_bgr(root / 'deep.png', _noise(40, 36, dtype=np.uint16))
    _write_bgr(root / 'sub' / 'alpha.png', _noise(24, 20, 4, seed=1))
    assert cv2.imwrite(str(root / 'sub' / 'gray.png'), _noise(30, 18, 1))
    image = Image.fromarray(_noise(20, 44, seed=2))
    exif = image.getexif()
    exif[0x0112] = 8  # stored rotated: turn 90 degrees counter-clockwise
    image.save(root / 'rotated.jpg', exif=exif, quality=95)
    (root / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 40)
    (root / 'notes.txt').write_text('not an image, ignored')
    return root


def test_every_input_kind_and_a_corrupt_file(weights, photos, tmp_path,
                                             capsys):
    out = tmp_path / 'out'
    code = translate.main([weights, str(photos), '--out', str(out),
                           '--precision', 'fp32', '--no-progress'])
    report = capsys.readouterr().out
    assert code == 1
    assert '5 written' in report and '1 failed' in report
    assert 'broken.png' in report
    written = sorted(osp.relpath(osp.join(d, f), out)
                     for d, _, files in os.walk(out) for f in files)
    assert written == ['deep.png', 'odd.png', 'rotated.png',
                       'sub/alpha.png', 'sub/gray.png']
    assert _read(out / 'odd.png').shape == (131, 257, 3)
    deep = _read(out / 'deep.png')
    assert deep.dtype == np.uint16 and deep.shape == (40, 36, 3)
    alpha = _read(out / 'sub' / 'alpha.png')
    source_alpha = _read(photos / 'sub' / 'alpha.png')[:, :, 3]
    assert alpha.shape == (24, 20, 4)
    assert np.array_equal(alpha[:, :, 3], source_alpha)
    assert _read(out / 'sub' / 'gray.png').shape == (30, 18, 3)
    # EXIF orientation 8: a 20 x 44 stored image is 44 x 20 upright.
    assert _read(out / 'rotated.png').shape == (44, 20, 3)
    # The tool writes what the API returns.
    translator = Translator.from_file(weights, precision='fp32')
    assert np.array_equal(_read(out / 'odd.png'),
                          translator(str(photos / 'odd.png')))
    assert not any(f.endswith('.tmp') for _, _, files in os.walk(out)
                   for f in files)


def test_refuses_to_write_into_an_input(weights, photos, tmp_path, capsys):
    before = sorted(os.listdir(photos))
    for out in (photos, photos / 'out', photos / 'sub'):
        assert translate.main([weights, str(photos), '--out', str(out),
                               '--no-progress']) == 2
        assert 'input folder' in capsys.readouterr().err
    # A single file given with --out its own folder.
    assert translate.main([weights, str(photos / 'odd.png'), '--out',
                           str(photos), '--no-progress']) == 2
    assert 'input' in capsys.readouterr().err
    assert sorted(os.listdir(photos)) == before
    assert not (photos / 'out').exists()
    assert translate.main([weights, str(tmp_path / 'nothing'), '--out',
                           str(tmp_path / 'o')]) == 2
    assert 'does not exist' in capsys.readouterr().err


def test_restart_skips_existing_outputs(weights, tmp_path, capsys):
    src = tmp_path / 'in'
    src.mkdir()
    for i in range(3):
        _write_bgr(src / f'{i}.png', _noise(16, 24, seed=i))
    out = tmp_path / 'out'
    args = [weights, str(src), '--out', str(out), '--no-progress']
    assert translate.main(args) == 0
    first = capsys.readouterr()
    assert '3 written' in first.out and 'skipped' not in first.out
    # The architecture in a few words, not the whole config.
    assert 'ResnetGenerator, ' in first.err and 'norm_cfg' not in first.err
    os.remove(out / '1.png')
    stamp = os.stat(out / '0.png').st_mtime_ns
    assert translate.main(args) == 0
    assert '1 written, 2 skipped' in capsys.readouterr().out
    assert os.stat(out / '0.png').st_mtime_ns == stamp
    assert translate.main(args + ['--overwrite']) == 0
    assert capsys.readouterr().out.strip() == '3 written'


def test_options_jpg_max_side_side_by_side_batches_globs(weights, tmp_path,
                                                         capsys):
    src = tmp_path / 'in'
    src.mkdir()
    for i in range(3):
        _write_bgr(src / f'{i}.png', _noise(40, 60, seed=i))
    _write_bgr(src / 'rgba.png', _noise(40, 60, 4, seed=9))
    single = tmp_path / 'single'
    assert translate.main([weights, str(src), '--out', str(single),
                           '--precision', 'fp32', '--no-progress']) == 0
    batched = tmp_path / 'batched'
    assert translate.main([weights, str(src / '*.png'), '--out',
                           str(batched), '--batch-size', '2',
                           '--precision', 'fp32', '--no-progress']) == 0
    for i in range(3):
        a = _read(single / f'{i}.png').astype(int)
        b = _read(batched / f'{i}.png').astype(int)
        assert np.abs(a - b).max() <= 1
    small = tmp_path / 'small'
    assert translate.main([weights, str(src), '--out', str(small),
                           '--max-side', '30', '--ext', 'jpg', '--quality',
                           '80', '--side-by-side', '--no-progress']) == 0
    pair = _read(small / '0.jpg')
    assert pair.shape == (20, 60, 3)  # 20 x 30 input | 20 x 30 output
    assert _read(small / 'rgba.jpg').shape == (20, 60, 3)
    assert 'alpha was dropped' in capsys.readouterr().out


def test_two_inputs_with_one_output_name_are_refused(weights, tmp_path,
                                                     capsys):
    src = tmp_path / 'in'
    src.mkdir()
    _write_bgr(src / 'a.png', _noise(8, 8))
    Image.fromarray(_noise(8, 8)).save(src / 'a.jpg')
    assert translate.main([weights, str(src), '--out',
                           str(tmp_path / 'out')]) == 2
    assert 'both be written' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()
