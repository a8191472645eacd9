"""FID/KID end to end: train.py evaluates and keeps the best checkpoint,
test.py prints the table and writes images; without weights, a fallback."""
import glob
import json
import os
import os.path as osp

import pytest

from mm_cyclegan.evaluation.inception import WEIGHTS_FILENAME
from tests.helpers import REPO, assert_same_weights, run_tool, shared_data
from tests.inception_weights import inception_weights  # noqa: F401

H2Z = shared_data('horse2zebra')
CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_horse2zebra_fid.py')
pytestmark = pytest.mark.skipif(not osp.isdir(H2Z),
                                reason=f'{H2Z} not found')
# Images per folder of the small horse2zebra view the tests train on (the
# datasets decode every file at start-up; the metric's max_samples=4 then
# scores 4 of the 5 test images per domain).
COUNTS = dict(trainA=6, trainB=6, testA=5, testB=5)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """--cfg-options pointing every loader at symlinks to a few photos."""
    root = tmp_path_factory.mktemp('h2z')
    for folder, count in COUNTS.items():
        (root / folder).mkdir()
        for name in sorted(os.listdir(osp.join(H2Z, folder)))[:count]:
            (root / folder / name).symlink_to(osp.join(H2Z, folder, name))
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]


def _env(tmp_path, weights=None):
    """No Inception file anywhere unless ``weights`` is given."""
    env = dict(TORCH_HOME=str(tmp_path / 'torch_home'))
    env['MM_CYCLEGAN_INCEPTION'] = weights or ''
    return env


def _evaluations(work_dir):
    """(iteration, metrics) of every validation, from the scalar log."""
    log = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]
    with open(log, encoding='utf-8') as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(row['step'], row) for row in rows if 'cycle_l1_mean' in row]


def test_train_logs_fid_kid_keeps_best_and_test_prints_table(
        tmp_path, data, inception_weights):  # noqa: F811
    work = tmp_path / 'work'
    result = run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
                       '--no-test', '--cfg-options', 'train_cfg.max_iters=4']
                      + data, env=_env(tmp_path, inception_weights))
    evaluations = _evaluations(work)
    assert [step for step, _ in evaluations] == [2, 4]
    for _, row in evaluations:
        for key in ('a2b/fid', 'b2a/fid', 'a2b/kid', 'a2b/kid_std',
                    'b2a/kid', 'b2a/kid_std', 'fid_mean'):
            assert key in row
        assert row['a2b/num_fake'] == row['a2b/num_real'] == 4
    assert '(4/4)' in result.stdout  # sample counts next to the FIDs
    # The best checkpoint is the evaluation with the lowest mean FID.
    best_step = min(evaluations, key=lambda e: e[1]['fid_mean'])[0]
    best = glob.glob(str(work / 'best_*.pth'))
    assert [osp.basename(p) for p in best] == [
        f'best_fid_mean_iter_{best_step}.pth']
    assert_same_weights(best[0], str(work / f'iter_{best_step}.pth'),
                        'best_* must hold the weights of that iteration: ')
    assert WEIGHTS_FILENAME not in result.stdout + result.stderr

    out = tmp_path / 'translated'
    test = run_tool(['tools/test.py', CONFIG, best[0], '--work-dir',
                     str(tmp_path / 'test'), '--out', str(out),
                     '--cfg-options'] + data,
                    env=_env(tmp_path, inception_weights))
    table = test.stdout[test.stdout.index('unpaired translation metrics'):]
    assert 'FID' in table and 'KID' in table and '(4/4)' in table
    assert 'a2b' in table and 'b2a' in table
    # Every test image translated, whatever max_samples.
    for direction, folder in (('a2b', 'testA'), ('b2a', 'testB')):
        assert len(glob.glob(str(out / direction / '*.png'))) == \
            COUNTS[folder]


def test_without_weights_train_warns_once_and_falls_back(tmp_path, data):
    work = tmp_path / 'work'
    result = run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
                       '--no-test', '--cfg-options', 'train_cfg.max_iters=2']
                      + data, env=_env(tmp_path))
    output = result.stdout + result.stderr
    assert output.count(f'{WEIGHTS_FILENAME} (pytorch-fid') == 1
    assert str(tmp_path / 'torch_home' / 'hub' / 'checkpoints') in output
    [(step, row)] = _evaluations(work)
    assert step == 2 and 'a2b/fid' not in row
    assert row['a2b/cycle_l1'] > 0 and 'b2a/color_gap' in row
    assert glob.glob(str(work / 'best_cycle_l1_mean_iter_2.pth'))


def test_without_weights_a_metric_that_needs_fid_stops_at_start(tmp_path,
                                                                data):
    result = run_tool(
        ['tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'work'),
         '--cfg-options', 'val_evaluator.missing_weights=error'] + data,
        env=_env(tmp_path), check=False)
    assert result.returncode == 2
    assert WEIGHTS_FILENAME in result.stderr
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))
