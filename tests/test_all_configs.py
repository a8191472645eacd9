"""Every recipe in configs/ builds: model, datasets, loop, optimisers,
schedulers and hooks, on a tiny data folder the test writes (no training).

A broken recipe (a renamed argument, a typo in a hook, a channel mismatch)
fails here instead of in a user's first run.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import (
    CycleGANRunner,
    EpochsAsItersTrainLoop,
    ImagePoolHook,
    RNGStateHook,
    TranslationVisualizationHook,
)
from tests.helpers import REPO, make_image_folder

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_the_recipes_are_found():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'cyclegan_demo.py' in names and len(names) >= 5, names


@pytest.fixture(scope='module')
def image_root(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp('data'), count=2,
                             size=(24, 20))


def _shrink(cfg: Config, image_root: str) -> None:
    """Point the datasets at tiny data; everything else stays as written."""
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = loader['dataset']
        if 'UnpairedImageDataset' in dataset['type']:
            dataset['data_root'] = image_root
        elif 'ProceduralLandscapeDataset' in dataset['type']:
            dataset['num_samples'] = 2
        loader['num_workers'] = 0
        loader['persistent_workers'] = False


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_recipe_builds(path, image_root, tmp_path):
    cfg = Config.fromfile(path)
    _shrink(cfg, image_root)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'recipe_{tmp_path.name}'
    runner = CycleGANRunner.from_cfg(cfg)  # model, hooks, visualizer

    for wanted in (ImagePoolHook, RNGStateHook, TranslationVisualizationHook,
                   CheckpointHook):
        assert any(isinstance(h, wanted) for h in runner.hooks), (
            wanted, runner.hooks)

    loop = runner.build_train_loop(runner._train_loop)  # + train dataset
    runner._train_loop = loop
    assert isinstance(loop, EpochsAsItersTrainLoop)
    if cfg.train_cfg.get('max_epochs'):
        assert loop.max_iters == cfg.train_cfg.max_epochs * len(
            loop.dataloader)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    assert sorted(runner.optim_wrapper.keys()) == ['discriminators',
                                                   'generators']
    if cfg.get('param_scheduler'):
        runner.param_schedulers = runner.build_param_scheduler(
            cfg.param_scheduler)

    model = runner.model
    sample = loop.dataloader.dataset[0]
    assert sample['img_a'].shape[0] == model.channels_a
    assert sample['img_b'].shape[0] == model.channels_b
    for key in LOADERS[1:]:
        if cfg.get(key):
            dataset = runner.build_dataloader(cfg.get(key)).dataset
            assert dataset[0]['img_a'].shape[0] == model.channels_a

    # The networks accept the domains' channels (a small input suffices).
    with torch.no_grad():
        fake_b = model.translate(torch.zeros(1, model.channels_a, 32, 32))
        assert fake_b.shape[1] == model.channels_b
        assert model.discriminator_b(fake_b).ndim == 4
