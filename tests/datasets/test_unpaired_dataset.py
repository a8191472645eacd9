"""UnpairedImageDataset: layout, sampling, determinism and start-up errors."""
import random

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, default_collate

from mm_cyclegan.datasets import scan, unpaired_dataset
from mm_cyclegan.datasets.image_io import read_image
from mm_cyclegan.datasets.sampler import UnpairedEpochSampler
from mm_cyclegan.datasets.scan import BadImageFilesError
from mm_cyclegan.datasets.seeding import derive_seed
from mm_cyclegan.datasets.transforms import Preprocess
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from mm_cyclegan.registry import DATASETS

SMALL = dict(load_size=36, crop_size=32)


def write_images(folder, count, size=(40, 40), start=0, prefix='img'):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)) + start)
    paths = []
    for k in range(start, start + count):
        pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        path = folder / f'{prefix} {k:03d}.png'
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def root(tmp_path):
    write_images(tmp_path / 'trainA', 5)
    write_images(tmp_path / 'trainB', 3)
    write_images(tmp_path / 'testA', 4)
    write_images(tmp_path / 'testB', 6)
    return tmp_path


def test_sample_layout_and_types(root):
    ds = UnpairedImageDataset(str(root), **SMALL)
    assert len(ds) == 5
    sample = ds[0]
    for key in ('img_a', 'img_b'):
        img = sample[key]
        assert img.dtype == torch.float32 and img.shape == (3, 32, 32)
        assert img.min() >= -1 and img.max() <= 1
    for key in ('pad_a', 'pad_b'):
        assert sample[key].dtype == torch.int64
        assert sample[key].tolist() == [0, 0, 0, 0]
    assert isinstance(sample['path_a'], str)
    assert isinstance(sample['index_b'], int)
    batch = default_collate([ds[0], ds[1]])
    assert batch['img_a'].shape == (2, 3, 32, 32)
    assert batch['valid_a'].tolist() == [True, True]


def test_a_walks_in_order_b_is_drawn_at_random_in_training(root):
    ds = UnpairedImageDataset(str(root), **SMALL)
    names_a = sorted((root / 'trainA').iterdir())
    for i in range(len(ds)):
        assert ds[i]['path_a'] == str(names_a[i % 5])
    picks = [ds[i]['index_b'] for i in range(200)]
    assert set(picks) == {0, 1, 2}
    assert picks[:3] != [0, 1, 2] or picks[3:6] != [0, 1, 2]


def test_test_split_is_serial_unflipped_and_counts_each_image_once(root):
    ds = UnpairedImageDataset(str(root), split='test', preprocess='none')
    assert len(ds) == 6 and ds.serial_b and not ds.preprocess.flip
    samples = [ds[i] for i in range(len(ds))]
    assert [s['index_b'] for s in samples] == list(range(6))
    assert [s['index_a'] for s in samples] == [0, 1, 2, 3, 0, 1]
    valid_a = [s['path_a'] for s in samples if s['valid_a']]
    assert sorted(valid_a) == ds.files_a  # each A exactly once
    assert all(s['valid_b'] for s in samples)
    # preprocess='none' at test time: the image is the file, unflipped.
    expected = read_image(ds.files_a[0])
    np.testing.assert_array_equal(samples[0]['img_a'].permute(1, 2, 0),
                                  expected)


def test_folder_names_are_configurable(tmp_path):
    write_images(tmp_path / 'selfie', 2)
    write_images(tmp_path / 'anime', 3)
    ds = UnpairedImageDataset(
        str(tmp_path), folder_a='selfie', folder_b='anime', **SMALL)
    assert ds.metainfo['num_a'] == 2 and ds.metainfo['num_b'] == 3
    assert 'selfie' in repr(ds) and '3 images' in repr(ds)


def test_hidden_and_non_image_files_are_ignored(tmp_path):
    paths = write_images(tmp_path / 'trainA', 2)
    write_images(tmp_path / 'trainB', 1)
    (tmp_path / 'trainA' / '.DS_Store').write_bytes(b'\0junk')
    (tmp_path / 'trainA' / '._img 000.png').write_bytes(b'\0junk')
    (tmp_path / 'trainA' / 'notes.txt').write_text('hello')
    Image.new('RGB', (40, 40)).save(tmp_path / 'trainA' / 'UPPER.JPG')
    ds = UnpairedImageDataset(str(tmp_path), **SMALL)
    assert ds.files_a == sorted(paths + [str(tmp_path / 'trainA' /
                                             'UPPER.JPG')])


def test_channels_per_domain(root):
    ds = UnpairedImageDataset(str(root), channels_a=1, channels_b=3, **SMALL)
    sample = ds[2]
    assert sample['img_a'].shape == (1, 32, 32)
    assert sample['img_b'].shape == (3, 32, 32)


def test_preprocess_none_pads_and_reports_padding(tmp_path):
    write_images(tmp_path / 'testA', 1, size=(30, 41))
    write_images(tmp_path / 'testB', 1, size=(32, 32))
    ds = UnpairedImageDataset(str(tmp_path), split='test', preprocess='none')
    sample = ds[0]
    top, bottom, left, right = sample['pad_a'].tolist()
    assert sample['img_a'].shape == (3, 32, 44)
    assert (top + bottom, left + right) == (2, 3)
    inner = sample['img_a'][:, top:32 - bottom, left:44 - right]
    np.testing.assert_array_equal(inner.permute(1, 2, 0),
                                  read_image(ds.files_a[0]))
    assert sample['pad_b'].tolist() == [0, 0, 0, 0]


# ---------------------------------------------------------------------------
# deterministic, independent randomness


def test_a_and_b_augmentations_are_independent(tmp_path):
    # The same picture in both domains: any difference comes from the
    # augmentation, which must be drawn separately per domain.
    write_images(tmp_path / 'trainA', 1, size=(50, 50))
    write_images(tmp_path / 'trainB', 1, size=(50, 50))
    source = tmp_path / 'trainA' / 'img 000.png'
    (tmp_path / 'trainB' / 'img 000.png').write_bytes(source.read_bytes())
    ds = UnpairedImageDataset(str(tmp_path), load_size=48, crop_size=32)
    differ = [not torch.equal(ds[i]['img_a'], ds[i]['img_b'])
              for i in range(10)]
    assert sum(differ) >= 8
    # Each domain follows its own (seed, epoch, index, stream) generator.
    image = read_image(str(source))
    for idx in (0, 3, 7):
        epoch, i = divmod(idx, len(ds))
        for stream in ('a', 'b'):
            rng = np.random.default_rng(derive_seed(0, epoch, i, stream))
            expected, _ = Preprocess('resize_and_crop', 48, 32)(image, rng)
            got = ds[idx][f'img_{stream}'].permute(1, 2, 0).numpy()
            np.testing.assert_array_equal(got, expected)


def test_two_instances_give_identical_samples(root):
    first = UnpairedImageDataset(str(root), seed=5, **SMALL)
    second = UnpairedImageDataset(str(root), seed=5, **SMALL)
    for idx in (0, 4, 7, 23):
        a, b = first[idx], second[idx]
        assert torch.equal(a['img_a'], b['img_a'])
        assert torch.equal(a['img_b'], b['img_b'])
        assert a['index_b'] == b['index_b']
    other = UnpairedImageDataset(str(root), seed=6, **SMALL)
    assert not all(
        torch.equal(first[i]['img_a'], other[i]['img_a']) for i in range(5))


def test_epoch_in_index_changes_augmentation_not_file(root):
    ds = UnpairedImageDataset(str(root), **SMALL)
    same_file = [ds[i]['path_a'] == ds[i + len(ds)]['path_a']
                 for i in range(len(ds))]
    assert all(same_file)
    assert not all(
        torch.equal(ds[i]['img_a'], ds[i + len(ds)]['img_a'])
        for i in range(len(ds)))


def _epochs(ds, workers):
    sampler = UnpairedEpochSampler(ds, shuffle=True, seed=11)
    loader = DataLoader(ds, batch_size=2, sampler=sampler,
                        num_workers=workers, collate_fn=default_collate)
    batches = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        batches.extend(loader)
    return batches


def test_worker_count_does_not_change_samples(root):
    ds = UnpairedImageDataset(str(root), **SMALL)
    serial, parallel = _epochs(ds, 0), _epochs(ds, 2)
    assert len(serial) == len(parallel) == 6
    for one, two in zip(serial, parallel):
        assert one['path_a'] == two['path_a']
        assert one['path_b'] == two['path_b']
        assert torch.equal(one['img_a'], two['img_a'])
        assert torch.equal(one['img_b'], two['img_b'])


def test_global_random_state_is_untouched(root):
    ds = UnpairedImageDataset(str(root), vflip=True, **SMALL)
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    py_state = random.getstate()
    for i in range(6):
        ds[i]
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert random.getstate() == py_state


# ---------------------------------------------------------------------------
# start-up errors


def test_missing_folder_names_path_layout_and_tool(tmp_path):
    write_images(tmp_path / 'trainA', 1)
    with pytest.raises(FileNotFoundError) as info:
        UnpairedImageDataset(str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / 'trainB') in message
    assert 'trainA, trainB, testA, testB' in message
    assert 'tools/download_dataset.py' in message


def test_empty_folder_is_named(tmp_path):
    write_images(tmp_path / 'trainA', 1)
    (tmp_path / 'trainB').mkdir()
    (tmp_path / 'trainB' / 'readme.txt').write_text('x')
    with pytest.raises(ValueError, match='trainB.*contains no images'):
        UnpairedImageDataset(str(tmp_path))


def _add_bad_files(folder):
    good = folder / 'img 000.png'
    (folder / 'zero.jpg').write_bytes(b'')
    (folder / 'text.jpg').write_text('this is not a jpeg')
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / 'j.jpg')
    data = (folder / 'j.jpg').read_bytes()
    (folder / 'j.jpg').unlink()
    (folder / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    assert good.exists()
    return ['zero.jpg', 'text.jpg', 'truncated.jpg']


def test_bad_files_are_listed_in_one_error(root):
    bad_a = _add_bad_files(root / 'trainA')
    (root / 'trainB' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n')
    with pytest.raises(BadImageFilesError) as info:
        UnpairedImageDataset(str(root), **SMALL)
    message = str(info.value)
    for name in bad_a + ['broken.png']:
        assert name in message
    assert 'truncated' in message and 'empty' in message
    assert len(info.value.bad) == 4


def test_skip_bad_files_drops_and_logs_them(root, monkeypatch):
    logged = []
    monkeypatch.setattr(unpaired_dataset, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    bad = _add_bad_files(root / 'trainA')
    ds = UnpairedImageDataset(str(root), skip_bad_files=True, **SMALL)
    assert len(ds.files_a) == 5 and ds.metainfo['skipped_a'] == 3
    assert len(logged) == 1 and 'skipped 3' in logged[0]
    for name in bad:
        assert name in logged[0]
    ds[0]


def test_crop_mode_rejects_small_images_at_start_up(tmp_path):
    write_images(tmp_path / 'trainA', 1, size=(40, 40))
    write_images(tmp_path / 'trainA', 1, size=(20, 50), start=1)
    write_images(tmp_path / 'trainB', 1, size=(40, 40))
    with pytest.raises(BadImageFilesError, match=r'img 001.png.*50x20'):
        UnpairedImageDataset(str(tmp_path), preprocess='crop', crop_size=32)
    # The default mode resizes small images up instead.
    ds = UnpairedImageDataset(str(tmp_path), **SMALL)
    assert ds[1]['img_a'].shape == (3, 32, 32)


def test_decompression_bomb_refused_at_start_up(root):
    with pytest.raises(BadImageFilesError, match='decompression bomb'):
        UnpairedImageDataset(str(root), max_pixels=1000, **SMALL)


@pytest.mark.parametrize('kwargs, bad', [
    (dict(channels_a=4), 'channels'),
    (dict(alpha='keep'), "'keep'"),
    (dict(preprocess='zoom'), "'zoom'"),
    (dict(seed=-1), 'seed'),
    (dict(max_pixels=0), 'max_pixels'),
    (dict(serial_b='yes'), 'serial_b'),
])
def test_invalid_arguments_are_named(root, kwargs, bad):
    with pytest.raises((ValueError, TypeError), match=bad):
        UnpairedImageDataset(str(root), **kwargs)


def test_negative_and_non_int_indices_are_refused(root):
    ds = UnpairedImageDataset(str(root), **SMALL)
    with pytest.raises(IndexError):
        ds[-1]
    with pytest.raises(TypeError):
        ds[1.5]
    assert len(list(ds)) == len(ds)  # plain iteration stops after an epoch


def test_built_from_the_registry(root):
    ds = DATASETS.build(
        dict(type='UnpairedImageDataset', data_root=str(root), **SMALL))
    assert isinstance(ds, UnpairedImageDataset) and len(ds) == 5


def test_subfolders_are_searched_hidden_ones_skipped(tmp_path):
    top = write_images(tmp_path / 'trainA', 1)
    nested = write_images(tmp_path / 'trainA' / 'part 2', 2)
    write_images(tmp_path / 'trainA' / '.cache', 2)
    write_images(tmp_path / 'trainB', 1)
    ds = UnpairedImageDataset(str(tmp_path), **SMALL)
    assert ds.files_a == sorted(top + nested)


def test_big_folders_show_progress(root, monkeypatch, capsys):
    monkeypatch.setattr(scan, 'PROGRESS_THRESHOLD', 4)
    UnpairedImageDataset(str(root), **SMALL)
    out = capsys.readouterr().out
    assert '5/5' in out  # trainA (5 files) shows a bar
    assert '3/3' not in out  # trainB (3 files) does not
