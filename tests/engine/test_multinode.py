"""Two torchrun "nodes" through tools/dist_train.sh (NNODES=2, one process
each, c10d rendezvous on 127.0.0.1, gloo): the ranks stay identical, equal
one process on batches of 2 (float64), and rank 0 alone writes each
checkpoint, with both ranks' pools in it."""
import os.path as osp

import pytest
import torch

from tests.cluster import (
    CHECKPOINTS,
    N,
    load,
    one_process_run,
    two_node_run,
    written_files,
)

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason='CPU (gloo) test')


@pytest.fixture(scope='module')
def two_nodes(tmp_path_factory):
    return two_node_run(tmp_path_factory)


def _rank_weights(work_dir, rank):
    return torch.load(osp.join(work_dir, f'rank{rank}_weights.pt'),
                      weights_only=True)


def test_ranks_end_with_identical_weights(two_nodes):
    first, second = _rank_weights(two_nodes, 0), _rank_weights(two_nodes, 1)
    assert first.keys() == second.keys()
    differ = [k for k in first if not torch.equal(first[k], second[k])]
    assert not differ, f'ranks diverged: {differ[:3]}'
    saved = load(two_nodes / f'iter_{N}.pth')['state_dict']
    assert all(torch.equal(saved[k], first[k]) for k in first)


def test_two_nodes_equal_one_process_on_batches_of_two(
        two_nodes, tmp_path_factory):
    single = load(one_process_run(tmp_path_factory) / f'iter_{N}.pth')
    ranks = load(two_nodes / f'iter_{N}.pth')['state_dict']
    start = load(two_nodes / 'iter_2.pth')['state_dict']
    single = single['state_dict']
    assert single.keys() == ranks.keys()
    moved = 0
    for key, value in single.items():
        assert value.dtype == ranks[key].dtype, key
        diff = (value - ranks[key]).abs().max().item()
        assert diff <= 1e-6, (key, diff)
        moved += int(not torch.equal(value, start[key]))
    assert moved > len(single) // 2  # iterations 3 to 5 changed weights
    assert all(v.dtype == torch.float64 for v in single.values()
               if v.is_floating_point())


def test_rank_0_writes_each_checkpoint_once_with_both_ranks_pools(
        two_nodes):
    # Through a temporary file, renamed (CycleGANRunner.save_checkpoint).
    assert written_files(two_nodes) == [f'0 {name}.tmp'
                                        for name in CHECKPOINTS]
    ckpt = load(two_nodes / f'iter_{N}.pth')
    pools = ckpt['image_pools']
    assert pools['world_size'] == 2
    # Each rank's pools hold its own fakes: one per iteration (never full).
    for state in pools['states']:
        assert len(state['pool_fake_a']['images']) == N
    for domain in 'ab':
        rank0, rank1 = (s[f'pool_fake_{domain}']['images']
                        for s in pools['states'])
        # Not one rank's pool twice (the unpaired b image of a step can be
        # the same on both ranks, so single fakes may coincide).
        assert not all(torch.equal(x, y) for x, y in zip(rank0, rank1))
    assert ckpt['rng_states']['world_size'] == 2
