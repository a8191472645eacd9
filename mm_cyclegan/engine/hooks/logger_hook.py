"""LoggerHook that shows the first iteration at once."""
from __future__ import annotations

from typing import Optional

from mmengine.hooks import LoggerHook

from mm_cyclegan.registry import HOOKS


@HOOKS.register_module()
class EarlyLoggerHook(LoggerHook):
    """MMEngine's ``LoggerHook`` that also logs the first iteration of a
    run (and of a resumed run).

    With the recipes' ``interval=100`` the first line, with the speed and
    the ETA, otherwise comes after 100 iterations: half a minute for the
    demo, minutes for a 256 px recipe, with nothing on the console. The
    extra line goes to the console and log file only, not to the scalar
    logs (TensorBoard, ``scalars.json``), whose steps stay every
    ``interval``.
    """

    def before_train(self, runner) -> None:
        """Arm the first-iteration line."""
        super().before_train(runner)
        self._first_pending = True

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """MMEngine's logging, plus one line after the first iteration."""
        first = getattr(self, '_first_pending', False)
        self._first_pending = False
        if first and not self.every_n_inner_iters(batch_idx, self.interval):
            _, log_str = runner.log_processor.get_log_after_iter(
                runner, batch_idx, 'train')
            runner.logger.info(log_str)
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
