"""The user's path: train, then translate the test photos with the result."""
import os
import os.path as osp

import cv2

from mm_cyclegan.apis import Translator
from tests.helpers import train
from tools import make_demo_data, translate


def test_train_then_translate_the_test_photos(tmp_path, capsys):
    work_dir = tmp_path / 'work'
    train(work_dir)  # tests/configs/tiny_procedural.py, 6 iterations
    data = tmp_path / 'demo'
    assert make_demo_data.main(['--out', str(data), '--num-train', '1',
                                '--num-test', '3', '--size', '32',
                                '--quiet']) == 0
    photos = sorted(os.listdir(data / 'testA'))
    out = tmp_path / 'out'
    code = translate.main([str(work_dir / 'iter_6.pth'), str(data / 'testA'),
                           '--out', str(out), '--no-progress'])
    assert code == 0
    assert f'{len(photos)} written' in capsys.readouterr().out
    assert sorted(os.listdir(out)) == photos
    for name in photos:
        source = cv2.imread(str(data / 'testA' / name))
        result = cv2.imread(str(out / name))
        assert result.shape == source.shape
    # The work dir itself points at its newest checkpoint; the config and
    # the domain names come from the checkpoint.
    translator = Translator.from_file(work_dir)
    assert osp.basename(translator.info.source) == 'iter_6.pth'
    assert translator.info.iterations == 6
    assert translator.info.domains == ('photo', 'anime')
