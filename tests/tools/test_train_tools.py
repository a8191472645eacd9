"""The real tools: train.py on real photos, dist_train.sh, the data check."""
import glob
import os
import os.path as osp
import subprocess

import pytest
import torch

from tests.helpers import (
    REPO,
    TINY_CONFIG,
    assert_same_weights,
    run_tool,
    shared_data,
    train,
)

H2Z = shared_data('horse2zebra')


@pytest.mark.skipif(not osp.isdir(H2Z), reason=f'{H2Z} not found')
def test_train_on_horse2zebra_writes_checkpoints_grids_and_events(tmp_path):
    config = osp.join(REPO, 'tests', 'configs', 'tiny_horse2zebra.py')
    result = train(tmp_path, f'train_dataloader.dataset.data_root={H2Z}',
                   config=config)
    assert 'Sample grids' in result.stdout
    assert sorted(osp.basename(p) for p in glob.glob(
        str(tmp_path / 'iter_*.pth'))) == ['iter_2.pth', 'iter_4.pth']
    grids = sorted(glob.glob(str(tmp_path / '*' / 'vis_data' / 'vis_image'
                                 / 'translation_*.png')))
    assert [osp.basename(g) for g in grids] == ['translation_2.png',
                                                'translation_4.png']
    import cv2
    grid = cv2.imread(grids[-1])
    # 2 samples x 2 rows, 3 columns of 64 px tiles with 2 px gaps.
    assert grid.shape == (4 * 64 + 3 * 2, 3 * 64 + 2 * 2, 3)
    events = glob.glob(str(tmp_path / '*' / 'vis_data' / 'events.out.*'))
    assert len(events) == 1
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    acc = EventAccumulator(events[0], size_guidance={'images': 0})
    acc.Reload()
    assert 'translation' in acc.Tags()['images']
    steps = [e.step for e in acc.Images('translation')]
    assert steps == [2, 4]
    assert 'loss_generators' in acc.Tags()['scalars']


def test_missing_data_stops_at_once_with_instructions(tmp_path):
    result = run_tool(['tools/train.py', 'configs/cyclegan_anime.py',
                       '--work-dir', str(tmp_path), '--cfg-options',
                       f'train_dataloader.dataset.data_root={tmp_path}/nope'],
                      check=False, timeout=120)
    assert result.returncode == 2
    assert f'{tmp_path}/nope' in result.stderr
    assert 'trainA' in result.stderr and 'trainB' in result.stderr
    assert 'tools/download_dataset.py' in result.stderr
    assert not glob.glob(str(tmp_path / '*.pth'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU (gloo) test')
def test_dist_train_two_processes_gloo(tmp_path):
    env = dict(os.environ, PYTHON=os.sys.executable, PORT='29641',
               PYTHONPATH=REPO)
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', TINY_CONFIG, '2', '--work-dir',
         str(tmp_path), '--no-test', '--cfg-options',
         'train_cfg.max_iters=4'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    log = open(glob.glob(str(tmp_path / '*' / '*.log'))[0]).read()
    assert 'Distributed launcher: pytorch' in log or 'world_size: 2' in \
        log.replace('\n', ' ')
    ckpt = torch.load(tmp_path / 'iter_4.pth', map_location='cpu',
                      weights_only=True)
    # Both ranks' pools are in the checkpoint.
    assert ckpt['image_pools']['world_size'] == 2
    assert len(ckpt['image_pools']['states']) == 2
    # Keys do not depend on the DDP wrappers: the checkpoint loads anywhere.
    assert not any('.module.' in k for k in ckpt['state_dict'])
    single = torch.load(_single_run(tmp_path), map_location='cpu',
                        weights_only=True)['state_dict']
    assert single.keys() == ckpt['state_dict'].keys()
    # Resuming under DDP maps the keys back onto the wrapped networks.
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', TINY_CONFIG, '2', '--work-dir',
         str(tmp_path), '--no-test', '--resume', '--cfg-options',
         'train_cfg.max_iters=6'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert 'missing keys' not in result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 4' in result.stdout + result.stderr
    assert osp.exists(tmp_path / 'iter_6.pth')


def _single_run(tmp_path):
    train(tmp_path / 'single', 'train_cfg.max_iters=2')
    return tmp_path / 'single' / 'iter_2.pth'


def test_load_from_takes_weights_of_our_checkpoint(tmp_path):
    first = tmp_path / 'first'
    train(first, 'train_cfg.max_iters=2')
    second = tmp_path / 'second'
    # load_from: weights only (tensors-only loading of a full checkpoint),
    # then zero further iterations would be refused, so train 2 more.
    train(second, 'train_cfg.max_iters=2',
          extra=['--load-from', str(first / 'iter_2.pth')])
    assert osp.exists(second / 'iter_2.pth')
    with pytest.raises(AssertionError):
        assert_same_weights(first / 'iter_2.pth', second / 'iter_2.pth')


def test_test_tool_scores_a_training_checkpoint(tmp_path):
    config = osp.join(REPO, 'tests', 'configs', 'tiny_procedural_eval.py')
    train(tmp_path, 'train_cfg.max_iters=2', config=config)
    result = run_tool(['tools/test.py', config, str(tmp_path / 'iter_2.pth'),
                       '--work-dir', str(tmp_path / 'test')])
    # Our own checkpoint (with message hub etc.) is read tensors-only.
    assert 'a2b' in result.stdout and 'b2a' in result.stdout
    assert 'PSNR' in result.stdout
