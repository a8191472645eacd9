"""Runners built within one second keep their own logger and log dir."""
from __future__ import annotations

import os.path as osp
import time

from mmengine.config import Config

from mm_cyclegan.engine.runner import CycleGANRunner
from tests.helpers import TINY_CONFIG


def _runner(work_dir) -> CycleGANRunner:
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    return CycleGANRunner.from_cfg(cfg)


def test_two_runners_in_one_second_get_own_logger_and_log_dir(
        tmp_path, monkeypatch):
    # MMEngine stamps runs in whole seconds: freeze the clock so both
    # runners see the same second, as fast in-process runs do.
    now = time.time()
    monkeypatch.setattr(time, 'time', lambda: now)
    first = _runner(tmp_path / 'one')
    second = _runner(tmp_path / 'two')
    third = _runner(tmp_path / 'two')
    names = {r.experiment_name for r in (first, second, third)}
    assert len(names) == 3
    assert len({id(r.logger) for r in (first, second, third)}) == 3
    assert second.log_dir != third.log_dir
    base = first.timestamp
    assert (second.timestamp, third.timestamp) == (f'{base}_1', f'{base}_2')
    for runner in (first, second, third):
        runner.logger.info(f'hello from {runner.experiment_name}')
    for runner in (first, second, third):
        log_file = osp.join(runner.log_dir, f'{runner.timestamp}.log')
        with open(log_file, encoding='utf-8') as f:
            text = f.read()
        assert f'hello from {runner.experiment_name}' in text
        others = names - {runner.experiment_name}
        assert not any(f'hello from {n}\n' in text for n in others)


def test_names_keep_mmengine_form(tmp_path):
    runner = _runner(tmp_path)
    stamp = runner.timestamp
    assert runner.experiment_name == f'tiny_procedural_{stamp}'
    assert runner.log_dir == osp.join(str(tmp_path), stamp)
