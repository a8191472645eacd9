"""Training loop that counts in iterations but can be configured in epochs."""
from __future__ import annotations

from typing import Optional

from mmengine.runner import IterBasedTrainLoop

from mm_cyclegan.registry import LOOPS


@LOOPS.register_module()
class EpochsAsItersTrainLoop(IterBasedTrainLoop):
    """An :class:`~mmengine.runner.IterBasedTrainLoop` sized in epochs.

    The paper schedules in epochs (100 constant + 100 decay); an epoch is
    ``len(dataloader)`` iterations, known only once the data is scanned.
    Give exactly one of ``max_epochs`` and ``max_iters``. Iteration-based
    looping is what makes mid-epoch resume exact (MMEngine's epoch loop
    restarts the interrupted epoch).
    """

    def __init__(self, runner, dataloader, max_epochs: Optional[int] = None,
                 max_iters: Optional[int] = None, val_begin: int = 1,
                 val_interval: int = 1000, dynamic_intervals=None) -> None:
        if (max_epochs is None) == (max_iters is None):
            raise ValueError('give exactly one of max_epochs and max_iters, '
                             f'got max_epochs={max_epochs}, '
                             f'max_iters={max_iters}')
        if max_epochs is not None:
            if max_epochs <= 0:
                raise ValueError(
                    f'max_epochs must be positive, got {max_epochs}')
            # Build the dataloader first: its length defines an epoch.
            if isinstance(dataloader, dict):
                dataloader = runner.build_dataloader(
                    dataloader, seed=runner.seed,
                    diff_rank_seed=runner._randomness_cfg.get(
                        'diff_rank_seed', False))
            max_iters = int(max_epochs) * len(dataloader)
        elif max_iters <= 0:
            raise ValueError(f'max_iters must be positive, got {max_iters}')
        super().__init__(runner, dataloader, max_iters=max_iters,
                         val_begin=val_begin, val_interval=val_interval,
                         dynamic_intervals=dynamic_intervals)
        self.epoch_length = len(self.dataloader)
