"""MMEngine's Runner with safe checkpoints: atomic, plain, finite, strict."""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional

import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.dist import master_only
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mm_cyclegan.compat import (
    cpu_ddp_wrapper_cfg,
    ddp_buffer_sync_cfg,
    without_unused_file_client,
)
from mm_cyclegan.registry import RUNNERS

from .checkpoint import (
    find_resumable_checkpoint,
    load_model_weights,
    read_checkpoint,
    seal_checkpoint,
)
from .console import quiet_console
from .preflight import check_runner_config, check_training_images
from .run_names import unique_timestamp


@RUNNERS.register_module()
class CycleGANRunner(Runner):
    """:class:`mmengine.runner.Runner` with safe checkpoints.

    * **Atomic**: each checkpoint is written to ``<name>.tmp`` and renamed
      into place, so a kill while saving never leaves a truncated file where
      the last good checkpoint is looked for.
    * **Plain and finite**: a checkpoint is converted to tensors and plain
      containers (:func:`~.checkpoint.encode_state`) after every hook added
      its state, so it loads with ``weights_only=True``; one whose weights
      hold NaN/inf is refused (:func:`~.checkpoint.seal_checkpoint`).
    * **Loading policy** (:mod:`mm_cyclegan.engine.checkpoint`): resume reads
      only plain files; ``load_from`` and ``test`` read weights
      tensors-only. Weights load strictly (missing/unexpected/mismatched
      keys are an error) unless the config sets ``load_partial=True``
      (``--partial``); resume is always strict.
    * **Auto-resume** skips only provably damaged checkpoints (kept as
      ``*.damaged``), stops at one it refuses (legacy format, unsafe
      content) and never follows a ``last_checkpoint`` out of its work dir
      (:func:`~.checkpoint.find_resumable_checkpoint`).
    * **Start-up checks** (:mod:`mm_cyclegan.engine.preflight`):
      iterations, batch sizes and learning rates of the wrong type or
      range, unknown checkpoint-hook arguments and dataset channels that
      do not fit the model fail before the first iteration, naming the key
      and value.
    * **CPU distributed**: the DDP wrappers get ``device_ids=None``
      (:func:`mm_cyclegan.compat.cpu_ddp_wrapper_cfg`).
    """

    _load_from: Optional[str]  # set by MMEngine's Runner

    def __init__(self, *args, **kwargs) -> None:
        self._resuming = False
        # The file being saved, for the seal's error message (MMEngine's
        # save_checkpoint calls the hook without the file name).
        self._saving: Optional[str] = None
        #: The checkpoint this run resumed from (None for a new run).
        self.resumed_from: Optional[str] = None
        self._startup_checked = False
        super().__init__(*args, **kwargs)
        check_runner_config(self.cfg, self.hooks, self._unwrapped_model())

    def _unwrapped_model(self):
        return self.model.module if is_model_wrapper(self.model) \
            else self.model

    def setup_env(self, env_cfg: dict) -> None:
        """MMEngine's set-up, then a timestamp no earlier run shares
        (:func:`~.run_names.unique_timestamp`)."""
        super().setup_env(env_cfg)
        self._timestamp = unique_timestamp(str(self.timestamp),
                                           self._work_dir)

    # ------------------------------------------------------------ start-up
    def check_startup(self) -> None:
        """The start-up checks that need the built dataset and model (run
        by :meth:`train`; tools call it earlier, e.g. before
        ``--overwrite`` moves an earlier run aside)."""
        if not self._startup_checked:
            check_training_images(self.train_dataloader,
                                  self._unwrapped_model())
            self._startup_checked = True

    def train(self):
        """Check that unprocessed images fit the model, then train."""
        self.check_startup()
        return super().train()

    # --------------------------------------------------------------- saving
    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save like MMEngine, but through a temporary file and a rename."""
        final = osp.join(out_dir, filename)
        self._saving = final
        # file_client_args: third positional (CheckpointHook) or keyword.
        client_args = args[0] if args else kwargs.get('file_client_args')
        try:
            if client_args is None:
                # MMEngine builds a FileClient it does not use here (see
                # mm_cyclegan.compat.without_unused_file_client).
                with without_unused_file_client(mmengine_checkpoint):
                    super().save_checkpoint(out_dir, filename + '.tmp',
                                            *args, **kwargs)
            else:
                super().save_checkpoint(out_dir, filename + '.tmp', *args,
                                        **kwargs)
        finally:
            self._saving = None
        os.replace(final + '.tmp', final)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """Call hooks; after ``before_save_checkpoint`` (every hook has
        added its state) make the checkpoint plain, or refuse it."""
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':
            seal_checkpoint(kwargs['checkpoint'],
                            self._saving or 'checkpoint')

    # -------------------------------------------------------------- loading
    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume from a plain checkpoint (see :mod:`.checkpoint`)."""
        self._resuming = True
        self.resumed_from = filename  # named if the run turns out finished
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = True,
                        revise_keys: Optional[list] = None) -> dict:
        """Read ``filename`` safely and load its weights strictly.

        Within :meth:`resume` the file must be plain and the load is strict
        whatever ``strict`` says; otherwise the weights are read
        tensors-only. ``revise_keys`` is accepted for MMEngine
        compatibility; a leading ``module.`` is always stripped.
        """
        purpose = 'resume' if self._resuming else 'weights'
        checkpoint = read_checkpoint(filename, map_location, purpose)
        ignored = checkpoint.ignored_types
        if ignored:
            self.logger.warning(
                f'{filename} is not a plain checkpoint; read tensors-only. '
                f'Ignored object types: {", ".join(ignored[:8])}.')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        report = load_model_weights(
            self._unwrapped_model(), checkpoint,
            strict=strict or self._resuming,
            config=self.cfg.filename if self.cfg else None, source=filename)
        if not report.complete:
            self.logger.warning(
                f'Partial load from {filename} ({len(report.loaded)} tensors '
                f'loaded):\n{report.describe()}')
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        """Resume (explicit file, or the newest intact one in the work dir)
        or load weights; auto-resume with nothing to resume starts fresh."""
        if self._has_loaded:
            return None
        if self._resume:
            target = self._load_from
            if target is None:
                target = find_resumable_checkpoint(
                    self.work_dir, logger=self.logger.warning)
                if target is None:
                    self.logger.info(
                        f'No intact checkpoint in {self.work_dir} to resume '
                        'from; starting from scratch.')
                    return None
                self.logger.info(f'Auto-resuming from {target}')
            self.resume(target)
        elif self._load_from is not None:
            partial = bool(self.cfg.get('load_partial', False))
            self.load_checkpoint(self._load_from, strict=not partial)
        self._has_loaded = True
        return None

    def build_logger(self, *args, **kwargs) -> MMLogger:
        """MMEngine's logger whose console leaves out the environment,
        config and hook table (they stay in the log file; see
        :mod:`mm_cyclegan.engine.console`)."""
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger)
        return logger

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        """Wrap for DDP; on CPU the wrappers get ``device_ids=None``."""
        if self.distributed:
            model_wrapper_cfg = ddp_buffer_sync_cfg(
                cpu_ddp_wrapper_cfg(model_wrapper_cfg))
        return super().wrap_model(model_wrapper_cfg, model)

