"""Start-up checks before the runner: absent test folders, weights."""
from mmengine.config import Config

from mm_cyclegan.engine import preflight
from mm_cyclegan.engine.preflight import preflight_evaluation

RECIPE = 'configs/cyclegan_resnet9-lsgan_1xb1-200e_horse2zebra.py'


def _cfg(root):
    cfg = Config.fromfile(RECIPE)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
    return cfg


def test_recipe_without_test_folders_trains_without_evaluation(
        tmp_path, monkeypatch):
    # MMEngine's logger may write to a stream captured before this test, so
    # the messages are collected at the source.
    messages = []
    monkeypatch.setattr(preflight, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg))
    for folder in ('trainA', 'trainB', 'testA'):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / 'x.png').write_bytes(b'')
    cfg = _cfg(tmp_path)
    assert cfg.val_evaluator.type == 'TranslationMetric'
    # The recipes' metric falls back when the weights are missing: no stop.
    assert preflight_evaluation(cfg) is None
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        assert cfg[key] is None
    assert ' '.join(messages).count('evaluation is off') == 1


def test_recipe_with_test_folders_keeps_evaluation(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('MM_CYCLEGAN_INCEPTION', raising=False)
    for folder in ('trainA', 'trainB', 'testA', 'testB'):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / 'x.png').write_bytes(b'')
    cfg = _cfg(tmp_path)
    assert preflight_evaluation(cfg) is None
    assert cfg.val_dataloader.dataset.split == 'test'
    assert cfg.default_hooks.checkpoint.save_best == 'auto'
    cfg.val_evaluator.missing_weights = 'error'
    assert 'pt_inception-2015-12-05-6726825d.pth' in preflight_evaluation(
        cfg)
