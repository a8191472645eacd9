"""The real tools: train.py on an image folder, dist_train.sh, data check."""
import glob
import os
import os.path as osp
import subprocess

import pytest
import torch

from mm_cyclegan.engine import make_image_pools
from tests.helpers import (
    REPO,
    TINY_CONFIG,
    make_image_folder,
    run_tool,
    train,
    weights,
)


def test_train_on_an_image_folder_writes_checkpoints_grids_and_events(
        tmp_path):
    """From a clean clone: the images are written by the test."""
    root = make_image_folder(tmp_path / 'data', count=3, size=(48, 40),
                             splits=('train',))
    config = osp.join(REPO, 'tests', 'configs', 'tiny_image_folder.py')
    result = train(tmp_path, f'train_dataloader.dataset.data_root={root}',
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
    # 2 samples x 2 rows, 3 columns of 64 px tiles enlarged to 192 px with
    # 2 px gaps, plus a header row and a left column of labels.
    height, width = 4 * 192 + 3 * 2, 3 * 192 + 2 * 2
    assert grid.shape[0] > height and grid.shape[1] > width
    assert grid.shape[0] - height < 100 and grid.shape[1] - width < 200
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


def _start_state(work_dir):
    return torch.load(osp.join(work_dir, 'start_state.pth'),
                      weights_only=True)


def test_load_from_takes_weights_only_and_resume_keeps_pool_config(
        tmp_path):
    """--load-from: exactly the source's weights, fresh pools and RNG, the
    configured pool (another size does not crash). --resume with another
    pool config: the config wins, the log says so, the images that fit
    are restored."""
    config = osp.join(REPO, 'tests', 'configs', 'tiny_probe.py')
    first = tmp_path / 'first'
    train(first, 'train_cfg.max_iters=2', config=config)
    source = first / 'iter_2.pth'
    other_pool = ['custom_hooks.0.pool_size=3',
                  'custom_hooks.0.swap_prob=0.25']

    loaded = tmp_path / 'loaded'
    train(loaded, 'train_cfg.max_iters=1', *other_pool, config=config,
          extra=['--load-from', str(source)])
    start, fresh = _start_state(loaded), _start_state(first)
    saved = weights(source)
    assert start['state_dict'].keys() == saved.keys()
    differ = [k for k in saved
              if not torch.equal(start['state_dict'][k], saved[k])]
    assert not differ, f'not the loaded weights: {differ[:3]}'
    assert any(not torch.equal(fresh['state_dict'][k], saved[k])
               for k in saved)  # the load changed something
    assert start['iter'] == 0
    expected = make_image_pools(3, 0.25, seed=0)
    for pool, new in zip(start['pools'], expected):
        assert (pool['size'], pool['swap_prob'], pool['images']) == (
            3, 0.25, [])
        assert torch.equal(pool['generator'], new.generator.get_state())
    # Global RNG as in a fresh run, not the state saved at iteration 2.
    assert torch.equal(start['torch_rng'], fresh['torch_rng'])

    resumed = tmp_path / 'resumed'
    result = train(resumed, 'train_cfg.max_iters=3', *other_pool,
                   config=config, extra=['--resume', str(source)])
    start = _start_state(resumed)
    assert start['iter'] == 2
    for pool in start['pools']:
        assert (pool['size'], pool['swap_prob']) == (3, 0.25)
        assert len(pool['images']) == 2  # the saved pool was full (size 2)
    log = result.stdout + result.stderr
    assert 'saved pool size 2 differs from the configured 3' in log
    assert 'saved swap_prob 0.5 differs from the configured 0.25' in log


def test_test_tool_scores_a_training_checkpoint(tmp_path):
    config = osp.join(REPO, 'tests', 'configs', 'tiny_procedural_eval.py')
    train(tmp_path, 'train_cfg.max_iters=2', config=config)
    result = run_tool(['tools/test.py', config, str(tmp_path / 'iter_2.pth'),
                       '--work-dir', str(tmp_path / 'test')])
    # Our own checkpoint (with message hub etc.) is read tensors-only.
    assert 'a2b' in result.stdout and 'b2a' in result.stdout
    assert 'PSNR' in result.stdout
