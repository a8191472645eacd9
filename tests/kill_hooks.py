"""Hooks that kill the training process on purpose (resume tests only)."""
import os
import signal

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook

from mm_cyclegan.registry import HOOKS


@HOOKS.register_module()
class KillAfterCheckpointHook(Hook):
    """SIGKILL this process right after the checkpoint of iteration ``at``."""

    priority = 'LOWEST'  # after the CheckpointHook has saved

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """Write half of the checkpoint of iteration ``at``, then SIGKILL."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_save_checkpoint(self, runner, checkpoint):
        if runner.iter + 1 != self.at:
            return

        def put(backend, obj, filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        LocalBackend.put = put
