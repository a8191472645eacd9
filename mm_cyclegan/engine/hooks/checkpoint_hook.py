"""CheckpointHook that rotates only after a successful save."""
from __future__ import annotations

from typing import Any

import mmengine.hooks.checkpoint_hook as mmengine_checkpoint_hook
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mm_cyclegan.compat import without_unused_file_client
from mm_cyclegan.registry import HOOKS

from ..checkpoint import write_checkpoint_pointer


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are recorded, not run."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.pending: list[tuple[str, str]] = []

    def remove(self, path: str) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path: str) -> None:
        self.pending.append(('rmtree', path))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` with two changes.

    * Rotation (``max_keep_ckpts``) deletes old checkpoints only *after* the
      new one was written. MMEngine deletes first, so a save that fails
      (e.g. refused for non-finite weights) would lose the newest good
      checkpoint.
    * ``last_checkpoint`` holds the file name relative to the work dir, so
      a copied or moved work dir resumes from its own files.

    It also skips the unused ``FileClient`` (and its two deprecation
    warnings) that MMEngine builds when ``file_client_args`` is not given.
    """

    def before_train(self, runner) -> None:
        """MMEngine's set-up, without the unused ``FileClient``."""
        if self.file_client_args is not None:
            return super().before_train(runner)
        with without_unused_file_client(mmengine_checkpoint_hook):
            super().before_train(runner)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        backend = self.file_backend  # type: ignore[has-type]
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self.file_backend = backend
        for kind, path in deferred.pending:
            getattr(backend, kind)(path)
        if not is_main_process():
            return
        write_checkpoint_pointer(runner.work_dir, self.last_ckpt)
