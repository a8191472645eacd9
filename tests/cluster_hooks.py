"""Test-only modules for the cluster tests (multi-node, SLURM, killed rank).

* :class:`Float64CycleGAN` / :class:`Float64DataPreprocessor`: the model and
  its batches in float64, so that "2 ranks x 1 image" equals "1 process x 2
  images" up to the synchronisation under test (see tests/engine/test_ddp).
* :class:`RecordWritesHook`: every file the file backend writes, with the
  writing rank, appended to ``<work_dir>/writes.log`` (a double write by
  a second rank shows up as a second line).
* :class:`DumpRankWeightsHook`: each rank's final weights, to compare ranks.
* :class:`KillRankOnceHook`: SIGKILL one rank in the first torchrun attempt.
"""
import os
import os.path as osp
import signal

import torch
from mmengine.dist import get_dist_info
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmengine.model import BaseDataPreprocessor, is_model_wrapper

from mm_cyclegan.models import CycleGAN
from mm_cyclegan.registry import HOOKS, MODELS

WRITES_LOG = 'writes.log'


@MODELS.register_module()
class Float64DataPreprocessor(BaseDataPreprocessor):
    """``BaseDataPreprocessor`` that also makes float tensors float64."""

    def forward(self, data, training=False):
        data = super().forward(data, training)
        return {k: v.double() if torch.is_tensor(v) and v.is_floating_point()
                else v for k, v in data.items()}


@MODELS.register_module()
class Float64CycleGAN(CycleGAN):
    """:class:`CycleGAN` built in float64 (before any DDP wrapper)."""

    def __init__(self, **kwargs):
        kwargs.setdefault('data_preprocessor',
                          dict(type='Float64DataPreprocessor'))
        super().__init__(**kwargs)
        self.double()


def _append(path, line):
    # O_APPEND: lines of concurrent writers (ranks) never overwrite.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + '\n').encode())
    finally:
        os.close(fd)


@HOOKS.register_module()
class RecordWritesHook(Hook):
    """Log ``<rank> <file name>`` for every ``put``/``put_text`` of the
    local file backend (checkpoints, ``last_checkpoint``) of this
    process."""

    priority = 'VERY_HIGH'

    def before_run(self, runner):
        log = osp.join(osp.abspath(runner.work_dir), WRITES_LOG)
        rank, _ = get_dist_info()
        for name in ('put', 'put_text'):
            original = getattr(LocalBackend, name)
            if getattr(original, '_recorded', False):
                continue

            def record(backend, obj, filepath, *args, _original=original,
                       **kwargs):
                _append(log, f'{rank} {osp.basename(str(filepath))}')
                return _original(backend, obj, filepath, *args, **kwargs)

            record._recorded = True
            setattr(LocalBackend, name, record)


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):
    """After training, save this rank's weights to
    ``<work_dir>/rank<r>_weights.pt`` (keys without DDP's ``.module``)."""

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        rank, _ = get_dist_info()
        torch.save({k: v.detach().clone()
                    for k, v in model.state_dict().items()},
                   osp.join(runner.work_dir, f'rank{rank}_weights.pt'))


@HOOKS.register_module()
class KillRankOnceHook(Hook):
    """SIGKILL rank ``rank`` after iteration ``at`` -- in the first torchrun
    attempt only (``TORCHELASTIC_RESTART_COUNT`` is 0), so that the
    restarted group runs through."""

    priority = 'LOWEST'  # after any checkpoint of that iteration

    def __init__(self, at: int, rank: int = 1) -> None:
        self.at = at
        self.rank = rank

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        attempt = int(os.environ.get('TORCHELASTIC_RESTART_COUNT', '0'))
        if (runner.iter + 1 == self.at and attempt == 0
                and get_dist_info()[0] == self.rank):
            os.kill(os.getpid(), signal.SIGKILL)
