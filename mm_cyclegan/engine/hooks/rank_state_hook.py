"""Base for hooks that keep per-rank training state in checkpoints."""
from __future__ import annotations

from typing import Any, Optional

from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mm_cyclegan.compat import runner_is_resuming


class RankStateHook(Hook):
    """Save one state per rank under ``checkpoint_key``; give each rank its own
    back on resume.

    MMEngine writes checkpoints on rank 0 only, so ``before_save_checkpoint``
    cannot reach the other ranks. Instead, in ``after_train_iter`` of an
    iteration after which the :class:`~mmengine.hooks.CheckpointHook` will
    save (this hook runs first: its priority is higher), every rank's state is
    gathered to all ranks; rank 0 then writes the gathered list.

    The state belongs to one run, so it is restored on **resume** only
    (:func:`~mm_cyclegan.compat.runner_is_resuming`, the flag MMEngine's
    own ``EMAHook`` checks); a
    ``load_from`` takes the weights and leaves this state fresh, as
    configured. On resume with the same world size, rank ``r`` restores
    entry ``r``. With a different world size, rank ``r`` restores entry
    ``r`` when it exists and starts fresh otherwise (logged as a warning),
    because per-rank state such as an image pool has no meaningful
    re-partitioning.

    Subclasses implement :meth:`collect` and :meth:`restore`.
    """

    priority = 'BELOW_NORMAL'
    checkpoint_key = 'rank_state'

    def __init__(self) -> None:
        self._gathered: Optional[tuple[int, list[Any]]] = None

    # ------------------------------------------------------------------ API
    def collect(self, runner) -> Any:
        """Return this rank's state (must be picklable)."""
        raise NotImplementedError

    def restore(self, runner, state: Any) -> None:
        """Restore this rank's state from :meth:`collect`'s output."""
        raise NotImplementedError

    # ------------------------------------------------------------- helpers
    @staticmethod
    def _checkpoint_due(runner) -> bool:
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch:
                continue
            if hook.every_n_train_iters(runner, hook.interval,
                                        hook.save_begin):
                return True
            if hook.save_last and hook.is_last_train_iter(runner):
                return True
        return False

    # --------------------------------------------------------------- stages
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Gather every rank's state when a checkpoint follows this iter."""
        _, world_size = get_dist_info()
        if world_size > 1 and self._checkpoint_due(runner):
            self._gathered = (runner.iter,
                              all_gather_object(self.collect(runner)))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write the per-rank states under :attr:`checkpoint_key`."""
        _, world_size = get_dist_info()
        if self._gathered is not None and self._gathered[0] == runner.iter:
            states = self._gathered[1]
        else:
            states = [self.collect(runner)]
            if world_size > 1:
                print_log(
                    f'{type(self).__name__}: checkpoint saved outside the '
                    'CheckpointHook schedule; only rank 0 state is stored.',
                    logger='current', level=30)
        self._gathered = None
        checkpoint[self.checkpoint_key] = dict(
            world_size=len(states), states=states)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, restore this rank's entry if the checkpoint has one."""
        saved = checkpoint.get(self.checkpoint_key)
        if saved is None:
            return
        if not runner_is_resuming(runner):
            print_log(
                f'{type(self).__name__}: loading weights only (not a '
                f'resume); the checkpoint\'s {self.checkpoint_key!r} are '
                'not restored.', logger='current')
            return
        rank, world_size = get_dist_info()
        states = saved['states']
        if len(states) != world_size:
            print_log(
                f'{type(self).__name__}: checkpoint holds state of '
                f'{len(states)} rank(s), this run has {world_size}; rank '
                f'{rank} ' + ('restores entry %d' % rank if rank < len(states)
                              else 'starts fresh'),
                logger='current', level=30)
        if rank < len(states):
            self.restore(runner, states[rank])
