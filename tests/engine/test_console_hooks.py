"""Console hooks: the evaluation progress bar."""
from types import SimpleNamespace

from mmengine.config import Config

from mm_cyclegan.engine.hooks import EvalProgressHook, add_progress_hook


def test_progress_bar_counts_batches_and_closes_before_metrics(capsys):
    hook = EvalProgressHook()
    runner = SimpleNamespace(test_dataloader=[0, 1, 2],
                             val_dataloader=[0, 1])
    hook.before_test_epoch(runner)
    assert hook._bar.total == 3
    for batch in range(2):
        hook.after_test_iter(runner, batch)
    assert hook._bar.n == 2
    hook.after_test_iter(runner, 2)
    # Closed at the last batch: the metric table prints on a clean line.
    assert hook._bar is None
    hook.after_test_epoch(runner, {})
    assert 'test:' in capsys.readouterr().err
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0)
    assert hook._bar.n == 1 and hook._bar.total == 2
    hook.after_val_epoch(runner, {})  # an interrupted pass closes too
    assert hook._bar is None
    assert 'val:' in capsys.readouterr().err


def test_disabled_bar_prints_nothing(capsys):
    hook = EvalProgressHook(disable=True)
    runner = SimpleNamespace(test_dataloader=[0])
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0)
    assert capsys.readouterr().err == ''


def test_add_progress_hook_once():
    cfg = Config(dict(custom_hooks=[dict(type='RNGStateHook')]))
    add_progress_hook(cfg)
    add_progress_hook(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == ['RNGStateHook',
                                                     'EvalProgressHook']
    empty = Config(dict())
    add_progress_hook(empty)
    assert [h['type'] for h in empty.custom_hooks] == ['EvalProgressHook']
