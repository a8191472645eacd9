"""A rank dies: torchrun (``MAX_RESTARTS=1`` through tools/dist_train.sh)
restarts the group, ``--resume`` continues from the newest intact
checkpoint, and the run ends bit-identical to an uninterrupted one."""
import glob
import os.path as osp

import pytest
import torch

from tests.cluster import (
    CHECKPOINTS,
    REPO,
    N,
    assert_same_training_state,
    free_port,
    load,
    run_nodes,
    script_env,
    two_node_run,
    written_files,
)

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason='CPU (gloo) test')
KILL_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_cluster_kill.py')


def test_killed_rank_restarts_and_resumes_bit_exact(tmp_path,
                                                    tmp_path_factory):
    uninterrupted = two_node_run(tmp_path_factory)
    env = script_env(PORT=str(free_port()), MAX_RESTARTS='1',
                     LOGLEVEL='INFO')  # torchrun logs its restart
    (out,) = run_nodes(tmp_path, [env], [
        KILL_CONFIG, '2', '--work-dir', str(tmp_path), '--no-test',
        '--resume']).values()
    # Rank 1 was SIGKILLed in the first attempt and the group restarted.
    assert 'exitcode  : -9' in out or 'exitcode: -9' in out, out[-3000:]
    assert 'will restart worker group' in out, out[-3000:]
    logs = sorted(glob.glob(str(tmp_path / '*' / '*.log')))
    assert len(logs) == 2  # one log per attempt (rank 0)
    with open(logs[1]) as f:
        assert 'resumed epoch: 0, iter: 2' in f.read()
    # Iteration 3 was lost; iter_2 was neither rewritten nor replaced.
    assert written_files(tmp_path) == [f'0 {name}.tmp'
                                       for name in CHECKPOINTS]
    assert_same_training_state(
        tmp_path / 'iter_2.pth', uninterrupted / 'iter_2.pth',
        'diverged before the kill (not a resume bug): ')
    resumed, reference = tmp_path / f'iter_{N}.pth', \
        uninterrupted / f'iter_{N}.pth'
    torch_rng = [f'rng_states.states[{r}].torch' for r in range(2)]
    assert_same_training_state(resumed, reference,
                               'the resumed run differs: ', allow=torch_rng)
    # Known offset: the resumed loop makes its DataLoader iterator again,
    # which draws one base seed from the global torch generator (the
    # uninterrupted run drew it before the iter-2 checkpoint). Nothing in
    # this model draws from that generator, so weights are unaffected;
    # with dropout they would not be.
    for got, want in zip(load(resumed)['rng_states']['states'],
                         load(reference)['rng_states']['states']):
        assert torch.equal(got['torch'], _one_draw_later(want['torch']))


def _one_draw_later(state):
    generator = torch.Generator()
    generator.set_state(state)
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    return generator.get_state()


def test_weights_load_into_ddp_wrapped_networks(tmp_path):
    """Resume and ``load_from`` under DDP: checkpoint keys never hold the
    wrappers' ``.module.``, and must still reach the wrapped networks."""
    import torch.distributed as dist
    from mmengine.model import MMSeparateDistributedDataParallel

    from mm_cyclegan.engine.checkpoint import load_model_weights
    from tests.engine.test_ddp import _build

    source = _build().state_dict()
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg',
                            rank=0, world_size=1)
    try:
        torch.manual_seed(1)
        target = _build()
        for network in target.children():
            if hasattr(network, 'init_weights'):
                network.init_weights()  # not the source's weights
        wrapped = MMSeparateDistributedDataParallel(target, device_ids=None)
        assert any(not torch.equal(v, source[k])
                   for k, v in wrapped.module.state_dict().items())
        report = load_model_weights(wrapped.module, source)
        assert report.complete
        loaded = wrapped.module.state_dict()
        differ = [k for k in source if not torch.equal(loaded[k], source[k])]
        assert not differ, f'not loaded into the wrapped networks: {differ}'
    finally:
        dist.destroy_process_group()
