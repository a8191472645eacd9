"""Integration: the dataset over real CycleGAN photos (shared, not copied).

The photos live next to the repository in ``../shared/data`` (override with
the environment variable ``MM_CYCLEGAN_SHARED_DATA``, the folder holding
``horse2zebra/`` and ``summer2winter_yosemite/``).
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, default_collate

from mm_cyclegan.datasets.image_io import read_image
from mm_cyclegan.datasets.sampler import UnpairedEpochSampler
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from tests.helpers import shared_data

DATASETS = ('horse2zebra', 'summer2winter_yosemite')


def dataset_root(name):
    root = Path(shared_data(name))
    if not (root / 'trainA').is_dir():
        pytest.skip(f'real data not found at {root} (set '
                    'MM_CYCLEGAN_SHARED_DATA to the folder holding '
                    f'{name}/)')
    return root


@pytest.mark.parametrize('name', DATASETS)
def test_train_split_builds_and_iterates(name):
    root = dataset_root(name)
    ds = UnpairedImageDataset(str(root), split='train')
    expected = max(
        len(list((root / d).glob('*.jpg'))) for d in ('trainA', 'trainB'))
    assert len(ds) == expected
    sampler = UnpairedEpochSampler(ds, shuffle=True, seed=0)
    loader = DataLoader(ds, batch_size=4, sampler=sampler,
                        collate_fn=default_collate)
    batch = next(iter(loader))
    assert batch['img_a'].shape == (4, 3, 256, 256)
    assert batch['img_b'].shape == (4, 3, 256, 256)
    for key in ('img_a', 'img_b'):
        assert torch.isfinite(batch[key]).all()
        assert batch[key].min() >= -1 and batch[key].max() <= 1
        assert batch[key].std() > 0.05  # real content, not a blank


@pytest.mark.parametrize('name', DATASETS)
def test_test_split_shows_every_image_once(name):
    root = dataset_root(name)
    ds = UnpairedImageDataset(str(root), split='test', preprocess='none')
    samples = [ds[i] for i in range(len(ds))]
    shown_a = [s['path_a'] for s in samples if s['valid_a']]
    shown_b = [s['path_b'] for s in samples if s['valid_b']]
    assert sorted(shown_a) == sorted(ds.files_a)
    assert sorted(shown_b) == sorted(ds.files_b)
    assert len(set(shown_a)) == len(shown_a)


def test_file_names_with_spaces_load():
    root = dataset_root('summer2winter_yosemite')
    ds = UnpairedImageDataset(str(root), split='test', preprocess='none')
    spaced = [i for i, p in enumerate(ds.files_a) if ' ' in Path(p).name]
    assert spaced, 'expected file names with spaces in this dataset'
    sample = ds[spaced[0]]
    assert ' ' in sample['path_a'] and sample['img_a'].shape[0] == 3


def test_real_jpegs_decode_to_pillows_rgb_scaled():
    root = dataset_root('horse2zebra')
    for path in sorted((root / 'testB').glob('*.jpg'))[:3]:
        expected = np.asarray(Image.open(path).convert('RGB'))
        np.testing.assert_allclose(read_image(str(path)),
                                   expected / 255 * 2 - 1, atol=1e-6)


def test_grayscale_photos_become_three_channels():
    root = dataset_root('horse2zebra')
    if not (root / 'extra_grayscale_trainB').is_dir():
        pytest.skip('extra_grayscale_trainB not present')
    ds = UnpairedImageDataset(
        str(root), folder_a='extra_grayscale_trainB', folder_b='trainB')
    img = ds[0]['img_a']
    assert img.shape == (3, 256, 256)
    assert torch.equal(img[0], img[1]) and torch.equal(img[1], img[2])
    gray = UnpairedImageDataset(
        str(root), folder_a='extra_grayscale_trainB', folder_b='trainB',
        channels_a=1)
    assert gray[0]['img_a'].shape == (1, 256, 256)
