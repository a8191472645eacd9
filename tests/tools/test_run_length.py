"""--max-iters / --max-epochs on every shipped recipe: the run has that
length and the learning rate keeps the recipe's shape (constant for the
first half, then linear to zero at the end).

The recipes run in-process through ``tools/train.py``'s ``main`` with tiny
networks and data (``--cfg-options``); the loop, the schedulers and the
hooks are the recipes' own.
"""
import glob
import json
import os.path as osp
import shlex

import pytest

from mm_cyclegan.apis.run_length import set_run_length
from mm_cyclegan.apis.training import prepare_config
from tests.helpers import REPO, TINY_CONFIG, make_image_folder
from tools import train as train_tool

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
LR = 2e-4
TRAIN_IMAGES = 4  # per domain: one epoch is 4 iterations


@pytest.fixture(scope='module')
def image_root(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp('data'),
                             count=TRAIN_IMAGES, size=(36, 36),
                             splits=('train',))


def _tiny(config, image_root):
    """--cfg-options that shrink a recipe's networks and data only."""
    options = [
        'model.generator_a2b.base_channels=4',
        'model.generator_a2b.num_blocks=1',
        'model.discriminator_b.base_channels=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None',
        'default_hooks.logger.interval=1',
    ]
    if 'demo' in osp.basename(config):
        options += [f'train_dataloader.dataset.num_samples={TRAIN_IMAGES}',
                    'train_dataloader.dataset.size=32']
    else:
        options += [f'train_dataloader.dataset.data_root={image_root}',
                    'train_dataloader.dataset.load_size=36',
                    'train_dataloader.dataset.crop_size=32']
    return options


def _logged_lrs(work_dir):
    """(step, generators lr, discriminators lr) of every logged iteration."""
    log = glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                             'scalars.json'))
    assert len(log) == 1, log
    with open(log[0], encoding='utf-8') as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(r['step'], r['generators.lr'], r['discriminators.lr'])
            for r in rows if 'generators.lr' in r]


def _expected(total):
    """The learning rate of iteration k (0-based) of a run of ``total``."""
    begin = total // 2
    return [LR if k < begin else LR * (total - k) / (total - begin)
            for k in range(total)]


@pytest.mark.parametrize('flag', ['--max-iters=8', '--max-epochs=2'])
@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_run_length_flag_keeps_the_decay_shape(config, flag, image_root,
                                               tmp_path):
    work = tmp_path / 'work'
    code = train_tool.main([config, '--work-dir', str(work), '--no-test',
                            flag, '--cfg-options']
                           + _tiny(config, image_root))
    assert code == 0
    logged = _logged_lrs(work)
    assert [step for step, _, _ in logged] == list(range(1, 9))
    for (step, lr_g, lr_d), want in zip(logged, _expected(8)):
        assert lr_g == pytest.approx(want, rel=1e-6), step
        assert lr_d == pytest.approx(want, rel=1e-6), step
    # The decay starts at iteration 4 (0-based: its rate is still the full
    # one, the next is lower) and steps down evenly: the last iteration
    # runs at one step above zero (2e-4 / 107k on a 200-epoch
    # horse2zebra run).
    assert logged[4][1] == pytest.approx(LR) and logged[5][1] < LR
    assert logged[-1][1] == pytest.approx(LR / 4)


def _args(*argv):
    return train_tool.parse_args(list(argv))


def test_cfg_options_length_replaces_the_recipes_key():
    # The old --help example: a recipe sized in epochs given max_iters.
    paper = osp.join(REPO, 'configs',
                     'cyclegan_resnet9-lsgan_1xb1-200e_horse2zebra.py')
    args = _args(paper, '--cfg-options', 'train_cfg.max_iters=100')
    cfg = prepare_config(args)
    set_run_length(cfg, cfg_options=args.cfg_options)
    assert cfg.train_cfg.max_iters == 100
    assert 'max_epochs' not in cfg.train_cfg
    # The old README example keeps the decay shape: it is a fraction.
    args = _args(paper, '--cfg-options', 'train_cfg.max_epochs=50')
    cfg = prepare_config(args)
    set_run_length(cfg, cfg_options=args.cfg_options)
    assert cfg.train_cfg.max_epochs == 50
    assert [s.get('decay_start_fraction') for s in cfg.param_scheduler] == [
        0.5]


def test_flags_switch_the_loop_and_are_validated():
    cfg = prepare_config(_args(TINY_CONFIG))
    set_run_length(cfg, max_epochs=3)
    assert cfg.train_cfg.max_epochs == 3 and 'max_iters' not in cfg.train_cfg
    set_run_length(cfg, max_iters=5)
    assert cfg.train_cfg.max_iters == 5 and 'max_epochs' not in cfg.train_cfg
    with pytest.raises(ValueError, match='max-iters must be >= 1, got 0'):
        set_run_length(cfg, max_iters=0)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=4)
    set_run_length(cfg, max_epochs=2)  # the same loop, sized in epochs
    assert cfg.train_cfg == dict(type='EpochsAsItersTrainLoop', max_epochs=2)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4)
    with pytest.raises(ValueError, match='EpochBasedTrainLoop'):
        set_run_length(cfg, max_iters=2)
    with pytest.raises(SystemExit):
        _args(TINY_CONFIG, '--max-iters', '3', '--max-epochs', '1')


def test_help_examples_work_as_printed():
    examples = [line.strip() for line in train_tool.EXAMPLES.replace(
        '\\\n', ' ').splitlines() if line.strip().startswith('python ')]
    assert len(examples) >= 3
    for example in examples:
        argv = shlex.split(example)[2:]
        args = _args(*argv)
        cfg = prepare_config(args)
        set_run_length(cfg, args.max_iters, args.max_epochs,
                       args.cfg_options)
        loop = cfg.train_cfg
        assert ('max_iters' in loop) != ('max_epochs' in loop), example
    assert 'train_cfg.max_iters=100' not in train_tool.EXAMPLES


def test_a_decay_that_does_not_fit_the_run_is_refused(tmp_path, capsys):
    # A user config with begin/end in iterations, run shorter than its end.
    config = tmp_path / 'absolute.py'
    config.write_text(
        f'_base_ = [{TINY_CONFIG!r}]\n'
        "param_scheduler = [dict(type='LinearDecayLR', by_epoch=False, "
        'begin=3, end=6)]\n')
    code = train_tool.main([str(config), '--work-dir', str(tmp_path / 'w'),
                            '--no-test', '--max-iters', '2'])
    assert code == 2
    err = capsys.readouterr().err
    assert 'decays from iteration 3 to 6, but training stops at ' \
        'iteration 2: the decay would never start' in err
    assert 'decay_start_fraction=0.5' in err
    assert not glob.glob(str(tmp_path / 'w' / '*.pth'))
