"""The CycleGAN paper's learning-rate schedule, per iteration."""
from __future__ import annotations

from typing import Optional

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mm_cyclegan.registry import PARAM_SCHEDULERS
from mm_cyclegan.utils.validation import check_int, check_number


class LinearDecayParamScheduler(_ParamScheduler):
    """Hold the initial value until ``begin``, then decay linearly to zero
    at ``end``.

    At step ``t`` with ``begin <= t < end`` the value is
    ``initial * (end - t) / (end - begin)``; before ``begin`` the scheduler
    does not touch it. The value is computed in closed form from the initial
    value at every step (no chained products, so no drift and no spikes;
    MMagic's ``LinearLrInterval`` drops to ``4e-8`` for one iteration).

    With ``by_epoch=True`` and ``convert_to_iter_based=True`` (the recipes),
    ``begin``/``end`` are given in epochs and converted to iterations with
    the length of the training dataloader, so the decay is smooth per
    iteration.

    With ``decay_start_fraction`` (the recipes: ``0.5``, the paper's 100 +
    100 epochs) the decay starts at that fraction of the run and ends with
    it, whatever length ``train_cfg``, ``--max-iters`` or ``--max-epochs``
    give: leave ``begin`` and ``end`` out and set ``by_epoch=False``; the
    runner passes the run's length in iterations as ``end``.
    """

    def __init__(self, optimizer, param_name: str, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False,
                 decay_start_fraction: Optional[float] = None) -> None:
        if end == INF:
            raise ValueError('LinearDecay needs a finite end (the step at '
                             'which the value reaches zero)')
        if decay_start_fraction is not None:
            fraction = check_number('decay_start_fraction',
                                    decay_start_fraction, 0.0)
            if fraction >= 1.0:
                raise ValueError('decay_start_fraction must be < 1 (the '
                                 'fraction of the run at constant value), '
                                 f'got {decay_start_fraction}')
            if by_epoch:
                # The runner's default end is then max_epochs, which an
                # iteration-based loop reports as 1.
                raise ValueError('decay_start_fraction needs by_epoch=False '
                                 '(the run length in iterations is the end), '
                                 f'got by_epoch={by_epoch}')
            if begin != 0:
                raise ValueError('give begin or decay_start_fraction, not '
                                 f'both (begin={begin}, decay_start_fraction'
                                 f'={decay_start_fraction})')
            begin = int(round(fraction * end))
            if begin >= end:
                raise ValueError(f'decay_start_fraction={fraction} of end='
                                 f'{end} leaves no step to decay over')
        self.decay_start_fraction = decay_start_fraction
        super().__init__(optimizer, param_name, begin=begin, end=end,
                         last_step=last_step, by_epoch=by_epoch,
                         verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin: int = 0, end: int = INF,
                              by_epoch: bool = True, epoch_length=None,
                              **kwargs):
        """Convert epoch-based ``begin``/``end`` to iterations."""
        if not by_epoch:
            raise ValueError('convert_to_iter_based needs by_epoch=True')
        if kwargs.get('decay_start_fraction') is not None:
            raise ValueError('decay_start_fraction is a fraction of the whole '
                             'run: use it with by_epoch=False and without '
                             'convert_to_iter_based')
        epoch_length = check_int('epoch_length', epoch_length, minimum=1)
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        kwargs.update(begin=begin, end=end, by_epoch=False)
        return cls(*args, **kwargs)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the position; a fraction schedule keeps the ``begin`` and
        ``end`` of *this* run.

        Resuming with another length (``--max-iters``) re-fits the decay to
        it instead of following the saved run's iterations, which could
        end after this run (never reaching zero) or before it.
        """
        # (MMEngine's attributes carry no annotation mypy can follow.)
        begin: int = self.begin  # type: ignore[has-type]
        end: int = self.end  # type: ignore[has-type]
        super().load_state_dict(state_dict)
        if self.decay_start_fraction is None:
            return
        self.begin, self.end = begin, end
        step = self._global_step  # the next iteration's index
        # Steps taken inside [begin, end), minus one (MMEngine's count).
        done = min(step, self.end - 1) - self.begin
        self.last_step = done if step >= self.begin else -1
        # The optimiser state (loaded just before) holds the saved run's
        # value; the next iteration runs at this run's.
        if step < self.end:
            values = self.base_values if step < self.begin \
                else self._get_value()
            for group, value in zip(self.optimizer.param_groups, values):
                group[self.param_name] = value

    def _get_value(self) -> list[float]:
        # last_step counts steps since ``begin`` (0 at ``begin``).
        span = self.end - self.begin
        factor = max(0.0, (span - self.last_step) / span)
        return [base * factor for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class LinearDecayLR(LRSchedulerMixin, LinearDecayParamScheduler):
    """Learning-rate version of :class:`LinearDecayParamScheduler`."""


def decay_problem(scheduler, max_iters: int) -> Optional[str]:
    """Why a per-iteration linear decay does not fit a run of ``max_iters``
    iterations (it would never start, or stop before reaching zero), or
    ``None``. Catches a recipe with ``begin``/``end`` in epochs whose run
    was shortened (``train_cfg.max_epochs=50`` on a 100 + 100 schedule)."""
    if not isinstance(scheduler, LinearDecayParamScheduler) or \
            scheduler.by_epoch:
        return None
    begin, end = int(scheduler.begin), int(scheduler.end)
    if begin < max_iters and end <= max_iters:
        return None
    what = ('would never start' if begin >= max_iters else
            f'would stop {(max_iters - begin) / (end - begin):.0%} of the '
            'way to zero')
    return (f'{type(scheduler).__name__} decays from iteration {begin} to '
            f'{end}, but training stops at iteration {max_iters}: the decay '
            f'{what}. Schedule it as a fraction of the run instead: '
            "param_scheduler = [dict(type='LinearDecayLR', by_epoch=False, "
            'decay_start_fraction=0.5)] (the recipes), and set the length '
            'with --max-iters/--max-epochs')
