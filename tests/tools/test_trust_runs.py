"""Issue 22.3 and 22.4: ``--overwrite`` checks first and moves (never
deletes) only the earlier run's own files; auto-resume stops at a file it
refuses and keeps a damaged one as ``*.damaged``."""
import glob
import itertools
import os
import os.path as osp
import shutil

import pytest
import torch

from tests.helpers import TINY_CONFIG, load_tool

_ids = itertools.count()


def _tool(name):
    return load_tool(name, prefix='runs_tool')


TRAIN = _tool('train')


def train(work_dir, *options, extra=()):
    """tools/train.py main() on the tiny config; returns its exit code."""
    return TRAIN.main([
        TINY_CONFIG, '--work-dir', str(work_dir), '--no-test', *extra,
        '--cfg-options', f'experiment_name=runs{next(_ids)}', *options
    ])


@pytest.fixture(scope='module')
def earlier_run(tmp_path_factory):
    """A finished 4-iteration run: iter_2/iter_4.pth, last_checkpoint and
    its timestamped log folder."""
    work_dir = tmp_path_factory.mktemp('earlier')
    assert train(work_dir, 'train_cfg.max_iters=4') == 0
    return work_dir


def _copy(earlier_run, tmp_path):
    work = tmp_path / 'work'
    shutil.copytree(earlier_run, work)
    return work


def _snapshot(folder):
    return {osp.relpath(p, folder): open(p, 'rb').read()
            for p in glob.glob(str(folder / '**'), recursive=True)
            if osp.isfile(p)}


# ------------------------------------------------------------ --overwrite


def test_overwrite_moves_the_run_keeps_user_files_and_lists(
        earlier_run, tmp_path, capfd):
    work = _copy(earlier_run, tmp_path)
    (work / 'my_weights.pth').write_bytes(b'mine')
    (work / 'notes.txt').write_text('keep me')
    torch.save({'w': torch.ones(1)}, work / 'best_psnr_iter_4.pth')
    old_logs = [osp.basename(p) for p in glob.glob(str(work / '2*_*'))]
    assert old_logs
    before = _snapshot(work)
    assert train(work, 'train_cfg.max_iters=1', extra=['--overwrite']) == 0
    out = capfd.readouterr().out
    previous = glob.glob(str(work / 'previous' / '*'))
    assert len(previous) == 1
    moved = previous[0]
    assert f'moved the earlier run\'s files to {moved}' in out
    for name in ['iter_2.pth', 'iter_4.pth', 'last_checkpoint',
                 'best_psnr_iter_4.pth'] + [n + '/' for n in old_logs]:
        assert name in out
        assert osp.exists(osp.join(moved, name.rstrip('/')))
    # Moved, not rewritten: the same bytes at the new place.
    for rel, data in before.items():
        if rel in ('my_weights.pth', 'notes.txt'):
            assert (work / rel).read_bytes() == data
        elif not rel.endswith('.py'):  # the dumped config is rewritten
            assert open(osp.join(moved, rel), 'rb').read() == data, rel
    assert 'my_weights.pth' not in out
    # The new run: its own checkpoint and pointer.
    assert (work / 'iter_1.pth').exists()
    assert (work / 'last_checkpoint').read_text() == 'iter_1.pth'


@pytest.mark.parametrize('mistake', [
    'default_hooks.checkpoint.intervall=1',  # a start-up check (runner)
    'model.generator_a2b.num_blockz=1',  # an unknown argument (build)
])
def test_overwrite_with_a_config_mistake_leaves_the_run(
        earlier_run, tmp_path, capfd, mistake):
    work = _copy(earlier_run, tmp_path)
    checkpoints = {n: (work / n).read_bytes()
                   for n in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint')}
    assert train(work, 'train_cfg.max_iters=1', mistake,
                 extra=['--overwrite']) == 2
    assert mistake.split('=')[0].rsplit('.')[-1] in capfd.readouterr().err
    for name, data in checkpoints.items():
        assert (work / name).read_bytes() == data
    assert not (work / 'previous').exists()


def test_overwrite_with_missing_data_leaves_the_run(earlier_run, tmp_path):
    work = _copy(earlier_run, tmp_path)
    config = tmp_path / 'folder.py'
    config.write_text(
        f'_base_ = [{TINY_CONFIG!r}]\n'
        'train_dataloader = dict(dataset=dict(_delete_=True, '
        f"type='UnpairedImageDataset', data_root={str(tmp_path / 'no')!r}))"
        '\n')
    assert TRAIN.main([str(config), '--work-dir', str(work), '--no-test',
                       '--overwrite']) == 2
    assert (work / 'iter_4.pth').exists()
    assert not (work / 'previous').exists()


# ------------------------------------------------------------ auto-resume


def test_auto_resume_stops_at_a_legacy_checkpoint(earlier_run, tmp_path,
                                                  capfd):
    work = _copy(earlier_run, tmp_path)
    ckpt = torch.load(work / 'iter_4.pth', weights_only=True)
    torch.save(ckpt, work / 'iter_4.pth', _use_new_zipfile_serialization=False)
    data = (work / 'iter_4.pth').read_bytes()
    assert train(work, 'train_cfg.max_iters=6', extra=['--resume']) == 2
    err = capfd.readouterr().err
    assert f'{work}/iter_4.pth' in err and 'legacy' in err
    assert (work / 'iter_4.pth').read_bytes() == data
    assert not (work / 'iter_6.pth').exists()
    assert not glob.glob(str(work / '*.damaged'))


def test_auto_resume_stops_at_an_unsafe_checkpoint(earlier_run, tmp_path,
                                                   capfd):
    work = _copy(earlier_run, tmp_path)
    ckpt = torch.load(work / 'iter_4.pth', weights_only=True)
    ckpt['meta']['note'] = print  # a global: refused by weights_only
    torch.save(ckpt, work / 'iter_4.pth')
    data = (work / 'iter_4.pth').read_bytes()
    assert train(work, 'train_cfg.max_iters=6', extra=['--resume']) == 2
    err = capfd.readouterr().err
    assert 'Refusing to resume' in err and 'print' in err, err
    assert (work / 'iter_4.pth').read_bytes() == data
    assert not (work / 'iter_6.pth').exists()


def test_auto_resume_keeps_a_damaged_checkpoint_renamed(earlier_run,
                                                        tmp_path, capfd):
    work = _copy(earlier_run, tmp_path)
    data = (work / 'iter_4.pth').read_bytes()
    short = data[:len(data) // 2]
    (work / 'iter_4.pth').write_bytes(short)
    assert train(work, 'train_cfg.max_iters=4', extra=['--resume']) == 0
    out, err = capfd.readouterr()
    assert f'kept as {work}/iter_4.pth.damaged' in out + err
    assert f'Auto-resuming from {work}/iter_2.pth' in out + err
    assert (work / 'iter_4.pth.damaged').read_bytes() == short
    # The resumed run wrote a new, intact iter_4.pth beside it.
    assert torch.load(work / 'iter_4.pth',
                      weights_only=True)['meta']['iter'] == 4
    os.remove(work / 'iter_4.pth')
