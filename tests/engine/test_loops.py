"""EpochsAsItersTrainLoop: sizing, silent epoch restarts, resume jump.

A real Runner trains a tiny CycleGAN on 4 procedural samples (16 px), so
each run crosses epoch boundaries within a few iterations.
"""
import logging
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader, default_collate

import mm_cyclegan  # noqa: F401
from mm_cyclegan.datasets import UnpairedEpochSampler
from mm_cyclegan.datasets.procedural import ProceduralLandscapeDataset
from mm_cyclegan.engine import CycleGANRunner, EpochsAsItersTrainLoop
from mm_cyclegan.engine.loops import EpochIterator
from tests.helpers import TINY_CONFIG

init_default_scope('mm_cyclegan')
SAMPLES = 4


class _Recorder(Hook):
    """Records which samples each iteration trained on, and the epoch."""

    def __init__(self):
        self.batches = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        sampler = runner.train_dataloader.sampler
        self.batches.append((runner.iter, sampler.epoch,
                             tuple(data_batch['path_a']),
                             tuple(data_batch['path_b'])))


class _CountingDataset(ProceduralLandscapeDataset):
    """Counts loaded samples (a class attribute: workers are not used)."""

    loads = 0

    def __getitem__(self, idx):
        type(self).loads += 1
        return super().__getitem__(idx)


def _runner(tmp_path, **train_cfg):
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(tmp_path)
    # Unique per run (MMEngine's default name has one-second resolution).
    cfg.experiment_name = f'loops_{tmp_path.name}'
    cfg.train_dataloader.dataset.num_samples = SAMPLES
    cfg.train_dataloader.dataset.size = 16
    cfg.train_cfg = dict(type='EpochsAsItersTrainLoop', val_interval=10**9,
                         **train_cfg)
    cfg.param_scheduler = None
    cfg.custom_hooks = [dict(type='ImagePoolHook', pool_size=2)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**9, save_last=False)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    runner = CycleGANRunner.from_cfg(cfg)
    recorder = _Recorder()
    runner.register_hook(recorder)
    return runner, recorder


def _loader(dataset, batch_size=1):
    return DataLoader(dataset, batch_size=batch_size,
                      collate_fn=default_collate,
                      sampler=UnpairedEpochSampler(dataset, seed=0))


def test_max_epochs_becomes_epochs_times_dataloader_length():
    dataset = ProceduralLandscapeDataset(num_samples=SAMPLES, size=16)
    runner = SimpleNamespace(visualizer=SimpleNamespace())
    loop = EpochsAsItersTrainLoop(runner, _loader(dataset, batch_size=2),
                                  max_epochs=3)
    assert loop.epoch_length == SAMPLES // 2
    assert loop.max_iters == 3 * SAMPLES // 2


@pytest.mark.parametrize('kwargs, match', [
    (dict(), 'exactly one'),
    (dict(max_epochs=1, max_iters=4), 'exactly one'),
    (dict(max_epochs=0), 'max_epochs must be >= 1, got 0'),
    (dict(max_iters=-3), 'max_iters must be >= 1, got -3'),
])
def test_bad_lengths_are_refused_with_the_value(kwargs, match):
    dataset = ProceduralLandscapeDataset(num_samples=SAMPLES, size=16)
    with pytest.raises(ValueError, match=match):
        EpochsAsItersTrainLoop(runner=None, dataloader=_loader(dataset),
                               **kwargs)


def test_epoch_iterator_advances_the_sampler_epoch_silently():
    dataset = ProceduralLandscapeDataset(num_samples=SAMPLES, size=16)
    loader = _loader(dataset)
    iterator = EpochIterator(loader)
    seen = [next(iterator)['path_a'][0] for _ in range(3 * SAMPLES)]
    assert iterator.epoch == 2 and loader.sampler.epoch == 2
    # Every epoch shows every sample once, in a new order.
    epochs = [seen[k:k + SAMPLES] for k in range(0, len(seen), SAMPLES)]
    assert all(sorted(e) == sorted(epochs[0]) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_empty_dataloader_is_an_error_not_a_hang():
    loader = DataLoader(list(range(1)), batch_size=2, drop_last=True)
    with pytest.raises(ValueError, match='no batch'):
        next(EpochIterator(loader))


TOTAL = 2 * SAMPLES + 2


@pytest.fixture(scope='module')
def full_run(tmp_path_factory):
    """An uninterrupted run over two epoch ends: its warnings and batches."""
    runner, recorder = _runner(tmp_path_factory.mktemp('full'),
                               max_iters=TOTAL)
    messages = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    MMLogger.get_current_instance().addHandler(handler)
    try:
        runner.train()
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    return messages, recorder.batches


def test_training_over_epoch_ends_gives_no_infinite_sampler_warning(
        full_run):
    messages, batches = full_run
    assert not [m for m in messages if 'end of the dataloader' in m], messages
    epochs = [epoch for _, epoch, _, _ in batches]
    assert epochs == [0] * SAMPLES + [1] * SAMPLES + [2] * 2


def test_resume_position_jumps_without_loading_skipped_samples(
        tmp_path, full_run):
    """A loop started at iteration k trains on what iterations k.. of the
    uninterrupted run trained on, loading only those samples."""
    start = SAMPLES + 1
    part, part_rec = _runner(tmp_path, max_iters=TOTAL)
    part.train_dataloader.dataset.__class__ = _CountingDataset
    _CountingDataset.loads = 0
    part._train_loop = part.build_train_loop(part._train_loop)
    part.train_loop._iter = start
    part.train()
    assert part_rec.batches == full_run[1][start:]
    # No hook here loads training samples, so every load is a trained one.
    assert _CountingDataset.loads == TOTAL - start


def test_a_fractional_length_is_refused_by_name():
    dataset = ProceduralLandscapeDataset(num_samples=SAMPLES, size=16)
    with pytest.raises(TypeError, match=r'max_iters must be an int, got 2\.5'):
        EpochsAsItersTrainLoop(runner=None, dataloader=_loader(dataset),
                               max_iters=2.5)
