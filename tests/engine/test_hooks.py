"""Per-stage behaviour of the pool and RNG hooks (no runner needed)."""
import logging
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import mm_cyclegan  # noqa: F401
from mm_cyclegan.engine import make_image_pools
from mm_cyclegan.engine.hooks import (
    ImagePoolHook,
    RNGStateHook,
    rank_state_hook,
)


class _PoolUser(torch.nn.Module):
    """The model side of the pool contract (CycleGAN implements it)."""

    def __init__(self):
        super().__init__()
        self.image_pools = None

    def set_image_pools(self, pools):
        self.image_pools = pools


def _runner(seed=0, resume=True):
    return SimpleNamespace(model=_PoolUser(), seed=seed, iter=9, hooks=[],
                           _resume=resume)


def _fill(model, start):
    for pool, offset in ((model.image_pools.a, 0),
                         (model.image_pools.b, 100)):
        for k in range(4):
            pool.query(torch.full((1, 1, 2, 2), float(start + offset + k)))


def test_before_run_attaches_seeded_pools():
    hook = ImagePoolHook(pool_size=3, swap_prob=0.5)
    runner = _runner(seed=5)
    hook.before_run(runner)
    pools = runner.model.image_pools
    assert pools.a.size == 3
    assert len(pools.b) == 0
    # The hook makes the same pools as make_image_pools (one definition).
    expected = make_image_pools(3, 0.5, seed=5, rank=0)
    assert torch.equal(pools.a.generator.get_state(),
                       expected.a.generator.get_state())
    assert torch.equal(pools.b.generator.get_state(),
                       expected.b.generator.get_state())


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
    for saved, loaded in zip(runner.model.image_pools,
                             fresh.model.image_pools):
        assert torch.equal(torch.stack(saved.images),
                           torch.stack(loaded.images))
        probe = torch.full((1, 1, 2, 2), -1.0)
        assert torch.equal(saved.query(probe), loaded.query(probe))


def test_checkpoint_without_pools_leaves_them_alone():
    hook = ImagePoolHook(pool_size=2)
    runner = _runner()
    hook.before_run(runner)
    _fill(runner.model, 0)
    hook.after_load_checkpoint(runner, {'state_dict': {}})
    assert len(runner.model.image_pools.a) == 2


def test_load_from_leaves_pools_and_rngs_fresh():
    """Not a resume: per-run state of the checkpoint is not restored."""
    hook, rng_hook = ImagePoolHook(pool_size=2), RNGStateHook()
    runner = _runner()
    hook.before_run(runner)
    _fill(runner.model, 0)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    rng_hook.before_save_checkpoint(runner, checkpoint)
    fresh = _runner(resume=False)
    hook.before_run(fresh)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    hook.after_load_checkpoint(fresh, checkpoint)
    rng_hook.after_load_checkpoint(fresh, checkpoint)
    assert len(fresh.model.image_pools.a) == 0
    assert torch.equal(torch.rand(3), expected)


def test_resume_with_another_pool_config_keeps_it_and_says_so():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('test_pool_resume')
    hook = ImagePoolHook(pool_size=3, swap_prob=0.5)
    runner = _runner()
    hook.before_run(runner)
    _fill(runner.model, 0)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    other = ImagePoolHook(pool_size=2, swap_prob=0.25)
    target = _runner()
    other.before_run(target)
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        other.after_load_checkpoint(target, checkpoint)
    finally:
        logger.removeHandler(handler)
    pools = target.model.image_pools
    assert (pools.a.size, pools.a.swap_prob) == (2, 0.25)
    saved = runner.model.image_pools.a.images
    assert torch.equal(torch.stack(pools.a.images), torch.stack(saved[:2]))
    text = '\n'.join(messages)
    assert 'size 3' in text and 'keeping 2' in text, text
    assert 'swap_prob 0.5' in text and 'keeping 0.25' in text, text


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
    images = target.model.image_pools.a.images
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
