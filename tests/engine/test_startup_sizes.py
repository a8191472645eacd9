"""Start-up size checks of preprocess='none' runs (the runner reads the
dataset's scan through its public ``scan_result``)."""
import os.path as osp

import numpy as np
from PIL import Image

from tests.helpers import REPO, make_image_folder, train

FOLDER_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_image_folder.py')


def _options(root, batch_size=1):
    return (f'train_dataloader.dataset.data_root={root}',
            'train_dataloader.dataset.preprocess=none',
            f'train_dataloader.batch_size={batch_size}',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_iters=1', 'param_scheduler=[]')


def test_too_small_images_fail_before_the_first_iteration(tmp_path):
    root = make_image_folder(tmp_path / 'data', count=2, size=(2, 2),
                             splits=('train',))
    result = train(tmp_path / 'work', *_options(root), config=FOLDER_CONFIG,
                   check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'too small for the networks' in output, output[-2000:]
    assert 'Iter(train)' not in output


def test_mixed_sizes_in_batches_are_named(tmp_path):
    root = make_image_folder(tmp_path / 'data', count=2, size=(64, 64),
                             splits=('train',))
    odd = np.zeros((48, 80, 3), dtype=np.uint8)
    Image.fromarray(odd).save(osp.join(root, 'trainA', 'wide.png'))
    result = train(tmp_path / 'work', *_options(root, batch_size=2),
                   config=FOLDER_CONFIG, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'needs images of one size' in output, output[-2000:]
    assert 'wide.png' in output
