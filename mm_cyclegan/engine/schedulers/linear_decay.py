"""The CycleGAN paper's learning-rate schedule, per iteration."""
from __future__ import annotations

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mm_cyclegan.registry import PARAM_SCHEDULERS


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
    """

    def __init__(self, optimizer, param_name: str, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if end == INF:
            raise ValueError('LinearDecay needs a finite end (the step at '
                             'which the value reaches zero)')
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
        if not epoch_length or epoch_length <= 0:
            raise ValueError(
                f'epoch_length must be positive, got {epoch_length}')
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        kwargs.update(begin=begin, end=end, by_epoch=False)
        return cls(*args, **kwargs)

    def _get_value(self) -> list[float]:
        # last_step counts steps since ``begin`` (0 at ``begin``).
        span = self.end - self.begin
        factor = max(0.0, (span - self.last_step) / span)
        return [base * factor for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class LinearDecayLR(LRSchedulerMixin, LinearDecayParamScheduler):
    """Learning-rate version of :class:`LinearDecayParamScheduler`."""
