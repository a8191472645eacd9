"""A progress bar over validation and test passes."""
from __future__ import annotations

from typing import Any, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mm_cyclegan.registry import HOOKS


@HOOKS.register_module()
class EvalProgressHook(Hook):
    """A tqdm bar (stderr, main process) over each validation and test
    pass.

    An evaluation with FID runs every image through Inception (~0.3 s per
    image on a CPU): a 260-image test set is over a minute with, otherwise,
    one log line every ``interval`` batches. ``tools/train.py`` and
    ``tools/test.py`` add this hook (:func:`add_progress_hook`).

    Args:
        disable: Never show the bar (e.g. in batch jobs).
    """

    priority = 'VERY_LOW'

    def __init__(self, disable: bool = False) -> None:
        self.disable = bool(disable)
        self._bar: Any = None

    def _open(self, runner, mode: str) -> None:
        from tqdm import tqdm
        self._close()
        loader = getattr(runner, f'{mode}_dataloader', None)
        try:
            total: Optional[int] = len(loader) if loader is not None \
                else None
        except TypeError:
            total = None
        self._bar = tqdm(total=total, desc=mode, unit='batch',
                         dynamic_ncols=True, leave=False,
                         disable=self.disable or not is_main_process())

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update(1)
            # Gone before the metrics print their table.
            if self._bar.total is not None and self._bar.n >= self._bar.total:
                self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def before_val_epoch(self, runner) -> None:
        """Open the bar of a validation pass."""
        self._open(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        """Open the bar of a test pass."""
        self._open(runner, 'test')

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs=None) -> None:
        """One batch done."""
        self._step()

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs=None) -> None:
        """One batch done."""
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Close the bar before the metrics are logged."""
        self._close()

    def after_test_epoch(self, runner, metrics=None) -> None:
        """Close the bar before the metrics are logged."""
        self._close()


def add_progress_hook(cfg: Any) -> None:
    """Append an :class:`EvalProgressHook` to ``cfg.custom_hooks`` unless
    the config has one."""
    hooks = list(cfg.get('custom_hooks') or [])
    if any(str(h.get('type', '')).endswith('EvalProgressHook')
           for h in hooks if hasattr(h, 'get')):
        return
    cfg.custom_hooks = hooks + [dict(type='EvalProgressHook')]
