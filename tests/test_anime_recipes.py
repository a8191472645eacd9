"""Both photo -> anime recipes (the paper's and the CPU one) build and train
a few iterations, with their own networks, on a tiny copy of the data.

The copy is a handful of real photo2anime images shrunk to 40 px in a tmp
folder (random images when ../shared/data is absent); only the image
sizes and the iteration count are overridden.
"""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from PIL import Image

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import CycleGANRunner
from tests.helpers import REPO, make_image_folder, shared_data

RECIPES = {
    'cyclegan_anime.py': dict(base_channels=64, num_blocks=9),
    'cyclegan_resnet6-ngf32-lsgan_1xb1-3k_photo2anime-96px.py':
    dict(base_channels=32, num_blocks=6),
}
SUBSETS = ('trainA', 'trainB', 'testA', 'testB')


@pytest.fixture(scope='module')
def tiny_anime(tmp_path_factory):
    root = tmp_path_factory.mktemp('photo2anime')
    source = shared_data('photo2anime')
    if not osp.isdir(osp.join(source, 'trainB')):
        return make_image_folder(str(root), count=3, size=(40, 40))
    for sub in SUBSETS:
        (root / sub).mkdir()
        for path in sorted(glob.glob(osp.join(source, sub, '*.jpg')))[:3]:
            with Image.open(path) as image:
                image.convert('RGB').resize((40, 40), Image.LANCZOS).save(
                    root / sub / osp.basename(path), quality=95)
    return str(root)


def shrink(cfg, data_root, iters=2):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.num_workers = 0
        loader.persistent_workers = False
        size = 36 if key == 'train_dataloader' else 32
        loader.dataset.update(data_root=data_root, load_size=size,
                              crop_size=32)
    cfg.train_cfg = dict(type='EpochsAsItersTrainLoop', max_iters=iters,
                         val_interval=iters)
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 1


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_anime_recipe_trains_a_few_iterations(name, tiny_anime, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    shrink(cfg, tiny_anime)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'anime_{tmp_path.name}'
    runner = CycleGANRunner.from_cfg(cfg)
    generator = runner.model.generator_a2b
    # The recipe's own networks, resize-conv upsampling in both.
    assert generator.upsample_mode == 'resize_conv'
    wanted = RECIPES[name]
    blocks = [m for m in generator.modules()
              if type(m).__name__ == 'ResidualBlock']
    assert len(blocks) == wanted['num_blocks']
    first = next(m for m in generator.modules()
                 if isinstance(m, torch.nn.Conv2d))
    assert first.out_channels == wanted['base_channels']
    before = first.weight.detach().clone()

    runner.train()

    assert runner.iter == 2
    assert not torch.equal(before, first.weight.detach())
    scalars = runner.message_hub.log_scalars
    losses = [k for k in scalars if 'loss' in k]
    assert losses and all(
        math.isfinite(scalars[k].current()) for k in losses), losses
    assert glob.glob(osp.join(str(tmp_path), 'iter_2.pth'))
    with torch.no_grad():
        out = runner.model.translate(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 3, 32, 32)
