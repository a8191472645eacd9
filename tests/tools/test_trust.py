"""Issue 12 through the real tools: tools/train.py and tools/test.py.

The tools' ``main(argv)`` runs in this process (the same code as the command
line, without ~7 s of imports per call); every run gets its own
``experiment_name`` so MMEngine's per-experiment logger and message hub are
not shared between runs.
"""
import glob
import itertools
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.hooks import Hook

from mm_cyclegan.registry import HOOKS
from tests.helpers import REPO, TINY_CONFIG, load_tool

EVAL_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_procedural_eval.py')
_ids = itertools.count()


def _tool(name):
    return load_tool(name, prefix='tool')


TRAIN, TEST = _tool('train'), _tool('test')


def train(work_dir, *options, config=EVAL_CONFIG, extra=()):
    """tools/train.py main(); returns its exit code."""
    return TRAIN.main([
        config, '--work-dir', str(work_dir), '--no-test', *extra,
        '--cfg-options', f'experiment_name=trust{next(_ids)}', *options
    ])


def run_test_tool(config, checkpoint, work_dir, *options):
    """tools/test.py main(); returns its exit code."""
    return TEST.main([
        config, str(checkpoint), '--work-dir', str(work_dir),
        '--cfg-options', f'experiment_name=trust{next(_ids)}', *options
    ])


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 4-iteration run of the eval config: iter_2.pth and iter_4.pth."""
    work_dir = tmp_path_factory.mktemp('trained')
    assert train(work_dir, 'train_cfg.max_iters=4') == 0
    return work_dir


class Payload:
    """Unpickling this creates ``marker`` through ``os.system``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(scope='module')
def payloads(trained, tmp_path_factory):
    """Our checkpoint with a payload in meta, state_dict, optimizer state,
    and in meta of a legacy (non-zip) file."""
    folder = tmp_path_factory.mktemp('payloads')
    marker = folder / 'pwned'
    files = {}
    for where in ('meta', 'state_dict', 'optimizer', 'legacy'):
        ckpt = torch.load(trained / 'iter_4.pth', weights_only=True)
        if where in ('meta', 'legacy'):
            ckpt['meta']['note'] = Payload(marker)
        elif where == 'state_dict':
            ckpt['state_dict']['evil'] = Payload(marker)
        else:
            ckpt['optimizer']['generators']['state'][0]['step'] = \
                Payload(marker)
        files[where] = folder / f'{where}.pth'
        torch.save(ckpt, files[where],
                   _use_new_zipfile_serialization=where != 'legacy')
    return marker, files


def test_checkpoints_are_plain_and_pointer_is_relative(trained):
    ckpt = torch.load(trained / 'iter_4.pth', weights_only=True)
    assert ckpt['mm_cyclegan_format'] == 2 and ckpt['meta']['iter'] == 4
    assert (trained / 'last_checkpoint').read_text() == 'iter_4.pth'
    log = open(glob.glob(str(trained / '*' / '*.log'))[0]).read()
    assert "dist_cfg: {'backend': 'gloo'}" in log  # CPU: not nccl
    assert 'nccl' not in log


def test_rerun_into_a_used_work_dir_is_refused(trained, capfd):
    before = os.path.getmtime(trained / 'iter_4.pth')
    assert train(trained, 'train_cfg.max_iters=4') == 2
    err = capfd.readouterr().err
    assert 'already holds checkpoints' in err
    assert '--resume' in err and '--work-dir' in err and '--overwrite' in err
    assert os.path.getmtime(trained / 'iter_4.pth') == before


def test_payloads_under_resume_are_refused(payloads, tmp_path, capfd):
    marker, files = payloads
    for where, path in files.items():
        code = train(tmp_path / where, 'train_cfg.max_iters=5',
                     extra=['--resume', str(path)])
        err = capfd.readouterr().err
        assert code == 2, where
        assert 'Refusing to resume' in err, err
        assert ('legacy' if where == 'legacy' else 'posix.system') in err
    assert not marker.exists()


def test_payloads_under_load_from_load_tensors_only(payloads, tmp_path,
                                                    capfd):
    marker, files = payloads
    for where, path in files.items():
        code = train(tmp_path / where, 'train_cfg.max_iters=1',
                     extra=['--load-from', str(path)])
        out, err = capfd.readouterr()
        if where == 'state_dict':
            assert code == 2 and "'evil'" in err and 'not a tensor' in err
        else:
            assert code == 0, err[-2000:]
            assert 'read tensors-only' in out + err
    assert not marker.exists()


def test_payloads_under_test_tool(payloads, tmp_path, capfd):
    marker, files = payloads
    for where, path in files.items():
        code = run_test_tool(EVAL_CONFIG, path, tmp_path / where)
        out, err = capfd.readouterr()
        if where == 'state_dict':
            assert code == 2 and "'evil'" in err
            assert 'PSNR' not in out
        else:
            assert code == 0 and 'PSNR' in out, err[-2000:]
    assert not marker.exists()


OTHER_ARCH = 'model.generator_a2b.base_channels=8'


def test_wrong_weights_are_an_error_in_test_tool(trained, tmp_path, capfd):
    ckpt = trained / 'iter_4.pth'
    assert run_test_tool(EVAL_CONFIG, ckpt, tmp_path / 'a', OTHER_ARCH) == 2
    out, err = capfd.readouterr()
    assert 'shape mismatch' in err and str(ckpt) in err
    assert EVAL_CONFIG in err and 'PSNR' not in out
    unrelated = tmp_path / 'unrelated.pth'
    torch.save({'embedding': torch.ones(4)}, unrelated)
    assert run_test_tool(EVAL_CONFIG, unrelated, tmp_path / 'b') == 2
    assert 'None of the weights' in capfd.readouterr().err


def test_load_from_is_strict_unless_partial(trained, tmp_path, capfd):
    ckpt = str(trained / 'iter_4.pth')
    assert train(tmp_path / 'strict', 'train_cfg.max_iters=1', OTHER_ARCH,
                 extra=['--load-from', ckpt]) == 2
    assert 'shape mismatch' in capfd.readouterr().err
    assert not glob.glob(str(tmp_path / 'strict' / '*.pth'))
    # A deliberate partial load: the discriminators (same shape) load.
    assert train(tmp_path / 'partial', 'train_cfg.max_iters=1', OTHER_ARCH,
                 extra=['--load-from', ckpt, '--partial']) == 0
    out, err = capfd.readouterr()
    assert 'Partial load' in out + err
    # Resuming with another architecture fails when loading.
    assert train(tmp_path / 'resume', 'train_cfg.max_iters=5', OTHER_ARCH,
                 extra=['--resume', ckpt]) == 2
    assert 'shape mismatch' in capfd.readouterr().err


def test_config_mistakes_fail_at_start(tmp_path, capfd):
    assert train(tmp_path / 'a', 'default_hooks.checkpoint.intervall=1',
                 config=TINY_CONFIG) == 2
    err = capfd.readouterr().err
    assert "'intervall'" in err and "did you mean 'interval'" in err
    assert train(tmp_path / 'b', 'train_dataloader.dataset.channels_a=1',
                 config=TINY_CONFIG) == 2
    err = capfd.readouterr().err
    assert 'channels_a=1' in err and '3-channel' in err
    assert not glob.glob(str(tmp_path / '*' / '*.pth'))
    base = tmp_path / 'base.py'
    base.write_text('model = dict(\n')
    config = tmp_path / 'broken.py'
    config.write_text("_base_ = ['base.py']\n")
    assert train(tmp_path / 'c', config=str(config)) == 2
    err = capfd.readouterr().err
    assert str(base) in err and 'line 1' in err


def test_mistyped_top_level_key_warns_with_closest_name(tmp_path):
    with pytest.warns(UserWarning, match="'randomnes'.*'randomness'"):
        # Stops at the run check (not training): the warning comes first.
        (tmp_path / 'last_checkpoint').write_text('x')
        train(tmp_path, 'randomnes.seed=123', config=TINY_CONFIG)


@HOOKS.register_module(force=True)
class PoisonWeightsHook(Hook):
    """Sets generator_a2b's weights to NaN before or after iteration ``at``
    (1-based), to simulate divergence deterministically."""

    priority = 'NORMAL'  # after FiniteLossHook, before the CheckpointHook

    def __init__(self, at, when):
        self.at, self.when = at, when

    def _poison(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        with torch.no_grad():
            for param in model.generator_a2b.parameters():
                param.fill_(float('nan'))

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.when == 'before' and runner.iter + 1 == self.at:
            self._poison(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.when == 'after' and runner.iter + 1 == self.at:
            self._poison(runner)


def _poisoned_config(tmp_path, at, when):
    config = tmp_path / f'poison_{when}.py'
    config.write_text(
        f"_base_ = [{TINY_CONFIG!r}]\n"
        "custom_hooks = [dict(type='FiniteLossHook'),\n"
        "    dict(type='ImagePoolHook', pool_size=2),\n"
        f"    dict(type='PoisonWeightsHook', at={at}, when={when!r})]\n"
        "default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1))\n"
        "train_cfg = dict(max_iters=3)\n")
    return str(config)


def test_non_finite_loss_stops_at_once(tmp_path):
    from mm_cyclegan.engine.hooks import NonFiniteLossError
    with pytest.raises(NonFiniteLossError, match=r'iteration 2: loss_\w+='):
        train(tmp_path, config=_poisoned_config(tmp_path, 2, 'before'))
    # Stopped before the checkpoint of the diverged iteration.
    assert osp.exists(tmp_path / 'iter_1.pth')
    assert not glob.glob(str(tmp_path / 'iter_[2-9].pth*'))


def test_non_finite_checkpoint_is_not_written_and_keeps_the_last(tmp_path):
    from mm_cyclegan.engine import NonFiniteCheckpointError
    with pytest.raises(NonFiniteCheckpointError, match='iter_2.pth'):
        train(tmp_path, config=_poisoned_config(tmp_path, 2, 'after'))
    # max_keep_ckpts=1: MMEngine's rotation deletes iter_1 before saving.
    assert osp.exists(tmp_path / 'iter_1.pth')
    assert not glob.glob(str(tmp_path / 'iter_2.pth*'))
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_1.pth'


def test_copied_work_dir_with_damaged_newest_resumes_its_own(
        trained, tmp_path, capfd):
    copy = tmp_path / 'copy'
    shutil.copytree(trained, copy)
    data = (copy / 'iter_4.pth').read_bytes()
    (copy / 'iter_4.pth').write_bytes(data[:len(data) // 2])
    assert train(copy, 'train_cfg.max_iters=3', extra=['--resume']) == 0
    out, err = capfd.readouterr()
    assert f'Skipping {copy}/iter_4.pth' in out + err
    assert f'Auto-resuming from {copy}/iter_2.pth' in out + err
    assert osp.exists(copy / 'iter_3.pth')
    assert not osp.exists(trained / 'iter_3.pth')


def test_stale_pointer_starts_from_scratch_and_trains(tmp_path, capfd):
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/iter_8.pth')
    assert train(tmp_path, 'train_cfg.max_iters=1', extra=['--resume'],
                 config=TINY_CONFIG) == 0
    out, err = capfd.readouterr()
    assert 'starting from scratch' in out + err
    assert osp.exists(tmp_path / 'iter_1.pth')


def _folder_config(tmp_path, sizes_a, batch_size):
    import cv2
    import numpy as np
    for domain, sizes in (('A', sizes_a), ('B', [(32, 32)])):
        folder = tmp_path / 'data' / f'train{domain}'
        folder.mkdir(parents=True, exist_ok=True)
        for i, (h, w) in enumerate(sizes):
            cv2.imwrite(str(folder / f'{i}.png'),
                        np.full((h, w, 3), 40 * i, np.uint8))
    config = tmp_path / f'folder_{batch_size}.py'
    config.write_text(
        f"_base_ = [{TINY_CONFIG!r}]\n"
        f"train_dataloader = dict(batch_size={batch_size}, dataset=dict(\n"
        "    _delete_=True, type='UnpairedImageDataset',\n"
        f"    data_root={str(tmp_path / 'data')!r}, preprocess='none'))\n")
    return str(config)


def test_unprocessed_images_that_cannot_work_are_explained(tmp_path, capfd):
    config = _folder_config(tmp_path, [(32, 32), (36, 40), (32, 32)], 2)
    assert train(tmp_path / 'mixed', config=config) == 2
    err = capfd.readouterr().err
    assert 'trainA/1.png is 40x36' in err and 'batch_size=1' in err
    shutil.rmtree(tmp_path / 'data')
    config = _folder_config(tmp_path, [(32, 32), (4, 4)], 1)
    assert train(tmp_path / 'small', config=config) == 2
    err = capfd.readouterr().err
    assert 'trainA/1.png is 4x4' in err and 'too small' in err
    assert not glob.glob(str(tmp_path / '*' / '*.pth'))


def test_argument_handling(capsys):
    args = TRAIN.parse_args(['c.py', '--resume'])
    assert args.resume == 'auto' and not args.overwrite
    assert TRAIN.parse_args(['c.py', '--resume', 'x.pth']).resume == 'x.pth'
    for bad in (['c.py', '--partial'], ['c.py', '--resume', '--overwrite']):
        with pytest.raises(SystemExit):
            TRAIN.parse_args(bad)
    assert '--partial needs --load-from' in capsys.readouterr().err
    args = TEST.parse_args(['c.py', 'w.pth', '--cfg-options', 'a.b=1'])
    assert args.checkpoint == 'w.pth' and args.cfg_options == {'a.b': 1}


def test_tools_share_config_preparation_and_build_from_registry(tmp_path):
    from mm_cyclegan.apis.training import build_runner, prepare_config
    from mm_cyclegan.engine import CycleGANRunner
    args = TEST.parse_args([EVAL_CONFIG, 'w.pth', '--work-dir',
                            str(tmp_path)])
    args.load_from = args.checkpoint
    cfg = prepare_config(args)
    assert cfg.load_from == 'w.pth' and cfg.resume is False
    assert cfg.runner_type == 'CycleGANRunner'
    cfg.experiment_name = f'trust{next(_ids)}'
    assert type(build_runner(cfg)) is CycleGANRunner
