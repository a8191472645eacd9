"""The paper's schedule: constant, then linear decay to zero, per iteration."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.registry import PARAM_SCHEDULERS

init_default_scope('mm_cyclegan')


def _lrs(total, **cfg):
    param = torch.nn.Parameter(torch.zeros(1))
    optim = OptimWrapper(torch.optim.Adam([param], lr=2e-4))
    cfg = dict(type='LinearDecayLR', **cfg)
    if cfg.pop('epoch_length', None) is not None:
        sched = PARAM_SCHEDULERS.get('LinearDecayLR').build_iter_from_epoch(
            optim, begin=cfg['begin'], end=cfg['end'], by_epoch=True,
            epoch_length=cfg['length'])
    else:
        sched = PARAM_SCHEDULERS.build(cfg, default_args=dict(
            optimizer=optim))
    seen = []
    for _ in range(total):
        seen.append(optim.param_groups[0]['lr'])  # lr used by this iter
        optim.step()
        sched.step()
    return seen


def _formula(k, begin, end, base=2e-4):
    return base if k < begin else base * (end - k) / (end - begin)


def test_matches_formula_at_every_iteration():
    begin, end = 7, 19
    lrs = _lrs(end, begin=begin, end=end, by_epoch=False)
    for k, lr in enumerate(lrs):
        assert lr == pytest.approx(_formula(k, begin, end), rel=1e-12,
                                   abs=1e-15), k


def test_epochs_convert_to_iterations_smoothly():
    # 3 epochs constant + 2 epochs decay, 5 iterations per epoch.
    lrs = _lrs(25, begin=3, end=5, epoch_length=True, length=5)
    assert lrs[:15] == [2e-4] * 15
    for k in range(15, 25):
        assert lrs[k] == pytest.approx(_formula(k, 15, 25), rel=1e-12)
    steps = [a - b for a, b in zip(lrs[14:], lrs[15:])]
    # No spike: monotone, equal steps (MMagic's scheduler dips to 4e-8).
    assert all(s >= 0 for s in steps)
    assert max(steps) == pytest.approx(2e-5, rel=1e-9)
    assert min(lrs) > 0


def test_infinite_end_is_rejected():
    param = torch.nn.Parameter(torch.zeros(1))
    optim = OptimWrapper(torch.optim.Adam([param], lr=2e-4))
    with pytest.raises(ValueError, match='finite end'):
        PARAM_SCHEDULERS.build(dict(type='LinearDecayLR', begin=0),
                               default_args=dict(optimizer=optim))


@pytest.mark.parametrize('total', [8, 9, 2000])
def test_fraction_of_the_run_equals_begin_at_that_fraction(total):
    # end = the run length, as the runner sets it for by_epoch=False.
    by_fraction = _lrs(total, decay_start_fraction=0.5, end=total,
                       by_epoch=False)
    begin = round(total / 2)
    assert by_fraction == _lrs(total, begin=begin, end=total,
                               by_epoch=False)
    assert by_fraction[begin - 1] == 2e-4 > by_fraction[begin + 1]


@pytest.mark.parametrize('cfg, message', [
    (dict(decay_start_fraction=0.5, end=8, by_epoch=True),
     'needs by_epoch=False'),
    (dict(decay_start_fraction=0.5, begin=2, end=8, by_epoch=False),
     'not both'),
    (dict(decay_start_fraction=1.0, end=8, by_epoch=False), 'must be < 1'),
    (dict(decay_start_fraction=-0.1, end=8, by_epoch=False), '>= 0'),
])
def test_bad_fraction_is_rejected(cfg, message):
    with pytest.raises(ValueError, match=message):
        _lrs(1, **cfg)


def test_decay_problem_names_a_decay_outside_the_run():
    from mm_cyclegan.engine.schedulers import decay_problem
    param = torch.nn.Parameter(torch.zeros(1))
    optim = OptimWrapper(torch.optim.Adam([param], lr=2e-4))
    sched = PARAM_SCHEDULERS.build(
        dict(type='LinearDecayLR', begin=100, end=200, by_epoch=False),
        default_args=dict(optimizer=optim))
    assert decay_problem(sched, 200) is None
    assert 'would never start' in decay_problem(sched, 50)
    assert '50% of the way to zero' in decay_problem(sched, 150)


def _fraction_scheduler(total):
    param = torch.nn.Parameter(torch.zeros(1))
    optim = OptimWrapper(torch.optim.Adam([param], lr=2e-4))
    sched = PARAM_SCHEDULERS.build(
        dict(type='LinearDecayLR', by_epoch=False, decay_start_fraction=0.5,
             end=total), default_args=dict(optimizer=optim))
    return optim, sched


@pytest.mark.parametrize('planned, done, resumed', [
    (4, 2, 3),    # stopped earlier than planned
    (8, 6, 12),   # a longer run: the decay moves to its second half
    (8, 3, 8),    # the same length: exactly the uninterrupted schedule
])
def test_resume_refits_a_fraction_schedule_to_the_new_length(
        planned, done, resumed):
    optim, sched = _fraction_scheduler(planned)
    for _ in range(done):
        optim.step()
        sched.step()
    saved_optim, saved_sched = optim.state_dict(), sched.state_dict()
    optim, sched = _fraction_scheduler(resumed)
    optim.load_state_dict(saved_optim)  # the runner's order
    sched.load_state_dict(saved_sched)
    assert (sched.begin, sched.end) == (round(resumed / 2), resumed)
    lrs = []
    for _ in range(done, resumed):
        lrs.append(optim.param_groups[0]['lr'])
        optim.step()
        sched.step()
    begin = round(resumed / 2)
    assert lrs == pytest.approx(
        [_formula(k, begin, resumed) for k in range(done, resumed)],
        rel=1e-12)
