"""MMEngine's Runner with crash-safe checkpoints and a safe loading policy."""
from __future__ import annotations

import glob
import os
import os.path as osp
import re
from typing import Optional

import torch
from mmengine.dist import master_only
from mmengine.runner import Runner

from mm_cyclegan.compat import trusted_checkpoint_loading
from mm_cyclegan.registry import RUNNERS

_ITER_RE = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """Return the newest complete checkpoint in ``work_dir``, or ``None``.

    Trusts ``last_checkpoint`` when it names an existing file; otherwise
    (missing, empty, or pointing at a file that is gone) falls back to the
    ``iter_N.pth`` / ``epoch_N.pth`` with the largest ``N``. Temporary files
    of an interrupted save (``*.pth.tmp``) are never returned.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer, encoding='utf-8') as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _ITER_RE.search(osp.basename(path))
        if match:
            candidates.append((int(match.group(1)), path))
    return max(candidates)[1] if candidates else None


@RUNNERS.register_module()
class CycleGANRunner(Runner):
    """:class:`mmengine.runner.Runner` with three changes.

    * **Atomic checkpoints**: each checkpoint is written to ``<name>.tmp`` and
      renamed into place, so a kill while saving never leaves a truncated
      file where the last good checkpoint is looked for.
    * **Loading policy**: ``resume`` unpickles our own checkpoints in full
      (they hold optimiser, scheduler, pool and RNG states); ``load_from`` and
      any other weights are loaded with ``weights_only=True``
      (see :mod:`mm_cyclegan.compat`).
    * **CPU distributed**: without CUDA the DDP wrappers get
      ``device_ids=None`` (MMEngine passes ``[LOCAL_RANK]``, which DDP
      rejects for CPU modules; ``../shared/STACK.md`` item 5).
    """

    _load_from: Optional[str]  # set by MMEngine's Runner

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save like MMEngine, but through a temporary file and a rename."""
        final = osp.join(out_dir, filename)
        super().save_checkpoint(out_dir, filename + '.tmp', *args, **kwargs)
        os.replace(final + '.tmp', final)

    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume with full unpickling of our own checkpoint."""
        with trusted_checkpoint_loading():
            super().resume(filename, *args, **kwargs)

    def load_or_resume(self) -> None:
        """Like MMEngine's, but auto-resume skips incomplete checkpoints."""
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            latest = find_resumable_checkpoint(self.work_dir)
            if latest is None:
                self.logger.info(
                    f'No checkpoint in {self.work_dir} to resume from; '
                    'starting from scratch.')
            else:
                self.logger.info(f'Auto-resuming from {latest}')
                self._load_from = latest
        return super().load_or_resume()

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        """Wrap for DDP; on CPU the wrappers get ``device_ids=None``."""
        if (self.distributed and not torch.cuda.is_available()
                and model_wrapper_cfg is not None):
            model_wrapper_cfg = dict(model_wrapper_cfg)
            model_wrapper_cfg['device_ids'] = None
        return super().wrap_model(model_wrapper_cfg, model)
