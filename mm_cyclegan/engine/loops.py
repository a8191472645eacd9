"""Training loop that counts in iterations but can be configured in epochs."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mm_cyclegan.compat import runner_randomness_cfg
from mm_cyclegan.registry import LOOPS
from mm_cyclegan.utils.validation import check_int

from .preflight import StartupCheckError
from .schedulers import decay_problem


class RunFinished(Exception):
    """Resumed a run that has already reached its last iteration."""

    def __init__(self, iteration: int, max_iters: int,
                 checkpoint: Optional[str] = None) -> None:
        self.iteration, self.max_iters = iteration, max_iters
        self.checkpoint = checkpoint
        source = f', {checkpoint}' if checkpoint else ''
        super().__init__(
            f'Nothing to do: the run already finished (iteration '
            f'{iteration} of {max_iters}{source}). To train longer: '
            f'--resume --max-iters N (N > {max_iters}; a recipe\'s LR '
            'decay re-fits to the new length); to start again: --work-dir '
            'NEW_DIR or --overwrite.')


class EpochIterator:
    """Endless batches from a finite dataloader, one pass per epoch.

    At the end of a pass the sampler's epoch is advanced (``set_epoch``) and
    the dataloader restarted. MMEngine's ``_InfiniteDataloaderIterator``
    does the same, but warns at every restart ("Reach the end of the
    dataloader ... use InfiniteSampler") and sleeps two seconds; here the
    restart is the design (epochs are what the sampler's indices and the
    paper's schedule count), so it is silent.

    Args:
        dataloader: The training dataloader.
        epoch: The epoch of the first pass (non-zero on resume).
    """

    def __init__(self, dataloader: DataLoader, epoch: int = 0) -> None:
        self.dataloader = dataloader
        self.epoch = int(epoch)
        self._iterator: Optional[Iterator[Any]] = None

    def __iter__(self) -> EpochIterator:
        return self

    def __next__(self) -> Any:
        if self._iterator is None:
            self._iterator = iter(self.dataloader)
        try:
            return next(self._iterator)
        except StopIteration:
            pass
        self.epoch += 1
        sampler = _sampler(self.dataloader)
        if sampler is not None and hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(self.epoch)
        self._iterator = iter(self.dataloader)
        try:
            return next(self._iterator)
        except StopIteration:
            raise ValueError('the training dataloader yields no batch '
                             '(empty dataset, or drop_last with fewer '
                             'samples than batch_size)') from None


def _sampler(dataloader: Any) -> Any:
    """The index sampler of a dataloader (inside its batch sampler if any)."""
    sampler = getattr(dataloader, 'sampler', None)
    if sampler is None:
        sampler = getattr(getattr(dataloader, 'batch_sampler', None),
                          'sampler', None)
    return sampler


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
            max_epochs = check_int('max_epochs', max_epochs, 1)
            # Build the dataloader first: its length defines an epoch.
            if isinstance(dataloader, dict):
                dataloader = runner.build_dataloader(
                    dataloader, seed=runner.seed,
                    diff_rank_seed=runner_randomness_cfg(runner).get(
                        'diff_rank_seed', False))
            max_iters = int(max_epochs) * len(dataloader)
        elif max_iters is not None:
            max_iters = check_int('max_iters', max_iters, 1)
        super().__init__(runner, dataloader, max_iters=max_iters,
                         val_begin=val_begin, val_interval=val_interval,
                         dynamic_intervals=dynamic_intervals)
        self.epoch_length = len(self.dataloader)
        # Restarting at each epoch end is intended: no InfiniteSampler
        # warning (see EpochIterator).
        self.dataloader_iterator = EpochIterator(self.dataloader)

    def run(self):
        """Train; on resume, jump to the saved position without loading.

        MMEngine's loop re-loads every sample it skips (minutes to hours
        for a long run). When the sampler can skip (``skip_next``, as
        :class:`~mm_cyclegan.datasets.UnpairedEpochSampler`), the epoch and
        the position in it are set directly; samples depend only on
        (seed, epoch, index), so the data is exactly what the uninterrupted
        run would have seen.
        """
        if self._iter > 0 and self._iter >= self._max_iters:
            raise RunFinished(self._iter, self._max_iters,
                              getattr(self.runner, 'resumed_from', None))
        sampler = _sampler(self.dataloader)
        if self._iter > 0 and hasattr(sampler, 'skip_next'):
            self._check_schedule()
            epoch, done = divmod(self._iter, self.epoch_length)
            batch_size = self.dataloader.batch_size or 1
            print_log(f'Resuming at iteration {self._iter}: epoch {epoch}, '
                      f'batch {done} of {self.epoch_length} (no reloading)',
                      logger='current')
            self.runner.call_hook('before_train')
            # DistSamplerSeedHook sets the sampler's epoch here, so the jump
            # comes after it.
            self.runner.call_hook('before_train_epoch')
            sampler.set_epoch(epoch)
            sampler.skip_next(done * batch_size)
            self.dataloader_iterator = EpochIterator(self.dataloader, epoch)
            return self._train_from_here()
        self._check_schedule()
        return super().run()

    def _check_schedule(self) -> None:
        """Refuse a learning-rate decay that does not fit the run (the
        schedulers are built after the loop, before ``run``)."""
        schedulers = self.runner.param_schedulers or []
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        for scheduler in schedulers:
            problem = decay_problem(scheduler, self.max_iters)
            if problem:
                raise StartupCheckError(problem)

    def _train_from_here(self):
        """The body of IterBasedTrainLoop.run after its skip."""
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
