"""The "epoch inside the sample index" protocol, shared by the sampler and
both datasets (mm_cyclegan.datasets.seeding)."""
import numpy as np
import pytest

from mm_cyclegan.datasets import (
    UnpairedEpochSampler,
    UnpairedImageDataset,
    decode_index,
    encode_index,
    sample_rng,
)
from mm_cyclegan.datasets.procedural import ProceduralLandscapeDataset
from mm_cyclegan.datasets.seeding import SampleIndexError
from tests.helpers import make_image_folder


@pytest.mark.parametrize('length', [1, 3, 1000])
def test_encode_and_decode_are_inverse(length):
    for epoch in (0, 1, 7):
        for index in {0, length // 2, length - 1}:
            idx = encode_index(epoch, index, length)
            assert decode_index(idx, length) == (epoch, index)
            assert decode_index(np.int64(idx), length) == (epoch, index)


def test_bad_indices_are_named():
    with pytest.raises(TypeError, match='1.5'):
        decode_index(1.5, 4)
    with pytest.raises(TypeError, match='True'):
        decode_index(True, 4)
    with pytest.raises(SampleIndexError, match='-1') as info:
        decode_index(-1, 4)
    assert isinstance(info.value, IndexError)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match='< the dataset length 4, got 4'):
        encode_index(0, 4, 4)
    with pytest.raises(ValueError, match='empty'):
        decode_index(3, 0)


def test_sample_rng_depends_on_every_part():
    draws = {sample_rng(*key).integers(2**62) for key in [
        (0, 0, 0, 'a'), (1, 0, 0, 'a'), (0, 1, 0, 'a'), (0, 0, 1, 'a'),
        (0, 0, 0, 'b')]}
    assert len(draws) == 5
    assert sample_rng(3, 2, 1, 'a').random() == sample_rng(
        3, 2, 1, 'a').random()


def test_sampler_yields_encoded_indices():
    sampler = UnpairedEpochSampler(list(range(5)), shuffle=True, seed=0)
    sampler.set_epoch(2)
    decoded = [decode_index(i, 5) for i in sampler]
    assert {epoch for epoch, _ in decoded} == {2}
    assert sorted(i for _, i in decoded) == list(range(5))


def test_both_datasets_draw_from_the_protocol(tmp_path):
    procedural = ProceduralLandscapeDataset(num_samples=6, size=16, seed=4)
    folder = UnpairedImageDataset(
        make_image_folder(tmp_path, count=6, size=(20, 20),
                          splits=('train',)),
        load_size=18, crop_size=16, seed=4)
    for dataset in (procedural, folder):
        for epoch, i in ((0, 1), (3, 5)):
            sample = dataset[encode_index(epoch, i, len(dataset))]
            pick = sample_rng(4, epoch, i, 'pick_b').integers(len(dataset))
            assert sample['index_b'] == pick
