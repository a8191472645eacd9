"""UnpairedEpochSampler: DefaultSampler's order, with the epoch encoded."""
import mmengine.dataset.sampler as mmengine_sampler
import pytest

from mm_cyclegan.datasets import sampler as our_sampler
from mm_cyclegan.datasets.sampler import UnpairedEpochSampler
from mm_cyclegan.registry import DATA_SAMPLERS


def as_world(monkeypatch, rank, world_size):
    for module in (our_sampler, mmengine_sampler):
        monkeypatch.setattr(module, 'get_dist_info',
                            lambda: (rank, world_size))


def test_unshuffled_yields_epoch_times_n_plus_i():
    data = list(range(7))
    sampler = UnpairedEpochSampler(data, shuffle=False, seed=0)
    assert list(sampler) == list(range(7))
    sampler.set_epoch(3)
    assert list(sampler) == [21 + i for i in range(7)]
    assert len(sampler) == 7


def test_shuffled_order_matches_default_sampler_each_epoch():
    data = list(range(10))
    ours = UnpairedEpochSampler(data, shuffle=True, seed=42)
    theirs = mmengine_sampler.DefaultSampler(data, shuffle=True, seed=42)
    orders = []
    for epoch in range(3):
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        decoded = [idx - epoch * 10 for idx in ours]
        assert decoded == list(theirs)
        assert sorted(decoded) == list(range(10))
        orders.append(decoded)
    assert orders[0] != orders[1]  # reshuffled every epoch


def test_same_seed_same_order_across_instances():
    first = UnpairedEpochSampler(range(20), seed=3)
    second = UnpairedEpochSampler(range(20), seed=3)
    other = UnpairedEpochSampler(range(20), seed=4)
    assert list(first) == list(second)
    assert list(first) != list(other)


@pytest.mark.parametrize('round_up', [True, False])
@pytest.mark.parametrize('size', [9, 10])
def test_sharding_matches_default_sampler(monkeypatch, round_up, size):
    data = list(range(size))
    shards = []
    for rank in range(4):
        as_world(monkeypatch, rank, 4)
        ours = UnpairedEpochSampler(data, seed=7, round_up=round_up)
        theirs = mmengine_sampler.DefaultSampler(
            data, seed=7, round_up=round_up)
        ours.set_epoch(2)
        theirs.set_epoch(2)
        mine = list(ours)
        assert [i - 2 * size for i in mine] == list(theirs)
        assert len(ours) == len(mine) == len(theirs)
        shards.append(mine)
    covered = sorted({i for shard in shards for i in shard})
    assert covered == [2 * size + i for i in range(size)]
    if round_up:
        assert len({len(shard) for shard in shards}) == 1
    else:
        assert sum(len(shard) for shard in shards) == size


def test_missing_seed_is_synchronised(monkeypatch):
    monkeypatch.setattr(our_sampler, 'sync_random_seed', lambda: 1234)
    assert UnpairedEpochSampler([1, 2, 3]).seed == 1234
    assert UnpairedEpochSampler([1, 2, 3], seed=5).seed == 5


def test_invalid_epoch_is_named():
    sampler = UnpairedEpochSampler([1], seed=0)
    with pytest.raises(ValueError, match='-1'):
        sampler.set_epoch(-1)


def test_built_from_the_registry_with_runner_defaults():
    # The Runner passes dataset and seed as default arguments.
    sampler = DATA_SAMPLERS.build(
        dict(type='UnpairedEpochSampler', shuffle=False),
        default_args=dict(dataset=list(range(4)), seed=9))
    assert isinstance(sampler, UnpairedEpochSampler)
    sampler.set_epoch(1)
    assert list(sampler) == [4, 5, 6, 7]


def test_skip_next_drops_the_first_indices_of_one_pass_only():
    sampler = UnpairedEpochSampler(list(range(7)), shuffle=True, seed=3)
    sampler.set_epoch(2)
    full = list(sampler)
    sampler.skip_next(4)
    assert list(sampler) == full[4:]
    assert list(sampler) == full  # one-shot
    with pytest.raises(ValueError, match='-1'):
        sampler.skip_next(-1)
