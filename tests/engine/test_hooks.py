"""Per-stage behaviour of the pool and RNG hooks (no runner needed)."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine.hooks import (
    ImagePoolHook,
    RNGStateHook,
    rank_state_hook,
)


def _runner(seed=0):
    model = torch.nn.Linear(1, 1)
    return SimpleNamespace(model=model, seed=seed, iter=9, hooks=[])


def _fill(model, start):
    for pool, offset in ((model.pool_fake_a, 0), (model.pool_fake_b, 100)):
        for k in range(4):
            pool.query(torch.full((1, 1, 2, 2), float(start + offset + k)))


def test_before_run_attaches_seeded_pools():
    hook = ImagePoolHook(pool_size=3, swap_prob=0.5)
    runner = _runner(seed=5)
    hook.before_run(runner)
    assert runner.model.pool_fake_a.size == 3
    assert len(runner.model.pool_fake_b) == 0
    # Pools of the two domains draw from different generators.
    assert not torch.equal(runner.model.pool_fake_a.generator.get_state(),
                           runner.model.pool_fake_b.generator.get_state())


def test_save_then_load_restores_both_pools():
    hook = ImagePoolHook(pool_size=2)
    runner = _runner()
    hook.before_run(runner)
    _fill(runner.model, 0)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['image_pools']['world_size'] == 1

    fresh = _runner()
    hook.before_run(fresh)
    hook.after_load_checkpoint(fresh, checkpoint)
    for name in ('pool_fake_a', 'pool_fake_b'):
        saved = getattr(runner.model, name)
        loaded = getattr(fresh.model, name)
        assert torch.equal(torch.stack(saved.images),
                           torch.stack(loaded.images))
        probe = torch.full((1, 1, 2, 2), -1.0)
        assert torch.equal(saved.query(probe), loaded.query(probe))


def test_checkpoint_without_pools_leaves_them_alone():
    hook = ImagePoolHook(pool_size=2)
    runner = _runner()
    hook.before_run(runner)
    _fill(runner.model, 0)
    hook.after_load_checkpoint(runner, {'state_dict': {}})  # load_from
    assert len(runner.model.pool_fake_a) == 2


@pytest.mark.parametrize('rank, world, restored', [
    (1, 2, True),    # same world size: own entry
    (1, 3, True),    # more ranks: entry 1 exists
    (2, 3, False),   # no entry for rank 2: starts fresh
])
def test_each_rank_gets_its_own_entry(monkeypatch, rank, world, restored):
    hook = ImagePoolHook(pool_size=2)
    states = []
    for r in range(2):
        runner = _runner()
        hook.before_run(runner)
        _fill(runner.model, 10 * r)
        states.append(hook.collect(runner))
    checkpoint = {'image_pools': dict(world_size=2, states=states)}
    monkeypatch.setattr(rank_state_hook, 'get_dist_info',
                        lambda: (rank, world))
    target = _runner()
    ImagePoolHook(pool_size=2).before_run(target)
    hook.after_load_checkpoint(target, checkpoint)
    images = target.model.pool_fake_a.images
    if restored:
        expected = states[rank]['pool_fake_a']['images']
        assert torch.equal(torch.stack(images), torch.stack(expected))
        other = states[1 - rank]['pool_fake_a']['images']
        assert not torch.equal(torch.stack(images), torch.stack(other))
    else:
        assert images == []


def test_invalid_pool_config_fails_at_construction():
    with pytest.raises(ValueError, match='-2'):
        ImagePoolHook(pool_size=-2)


def test_rng_hook_round_trip():
    hook = RNGStateHook()
    runner = _runner()
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(2)
    np.random.seed(2)
    random.seed(2)
    hook.after_load_checkpoint(runner, checkpoint)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]
