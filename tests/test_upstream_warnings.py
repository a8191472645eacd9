"""Warnings about upstream code are fixed at their source or filtered
narrowly (message, category, module); each test shows the warning exists
without the fix."""
import subprocess
import sys
import warnings

import pytest
import torch
from mmengine.evaluator import BaseMetric

import mm_cyclegan  # noqa: F401
from mm_cyclegan import compat

DEPRECATIONS = ('Transformer2DModelOutput', 'DualTransformer2DModel',
                'UNet2DConditionOutput', 'UNet2DConditionModel',
                'torch.jit.script')


def _stderr_of(code):
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def test_importing_mmagic_models_prints_no_upstream_deprecation():
    # Without the filters (Python's defaults instead) ...
    noisy = _stderr_of('import warnings\nimport mm_cyclegan\n'
                       'warnings.resetwarnings()\n'
                       "warnings.simplefilter('default')\n"
                       'import mmagic.models\n')
    for name in DEPRECATIONS:
        assert f'`{name}` is deprecated' in noisy, name
    # ... and with them, as every process that imports mm_cyclegan.
    quiet = _stderr_of('import mm_cyclegan\nimport mmagic.models\n')
    assert 'Warning' not in quiet, quiet


def test_the_filters_are_narrow():
    # The same message from another module, or another category, shows.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        compat.filter_upstream_warnings()
        warnings.warn('`torch.jit.script` is deprecated', FutureWarning)
        warnings.warn_explicit('`UNet2DConditionModel` is deprecated',
                               DeprecationWarning, 'x.py', 1,
                               module='diffusers.models.x')
    assert len(caught) == 2


def test_fid_inception_does_not_import_mmagic_models():
    out = subprocess.run(
        [sys.executable, '-c',
         'import sys\n'
         'from mm_cyclegan.evaluation import build_fid_inception\n'
         'net = build_fid_inception()\n'
         "print(len(net.state_dict()), 'mmagic.models' in sys.modules)\n"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    count, imported = out.stdout.split()
    assert int(count) > 300 and imported == 'False'
    assert 'Warning' not in out.stderr


def test_metrics_set_no_prefix_without_warning(monkeypatch, tmp_path):
    import mmengine.evaluator.metric as metric_module

    from mm_cyclegan.evaluation import TranslationImageWriter
    from mm_cyclegan.evaluation.translation_metric import TranslationMetric
    # No Inception file anywhere: the metric falls back without a network.
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('MM_CYCLEGAN_INCEPTION', '')
    logged = []
    monkeypatch.setattr(metric_module, 'print_log',
                        lambda msg, *a, **k: logged.append(str(msg)))

    class Unprefixed(BaseMetric):  # MMEngine's default: warns
        def process(self, data_batch, data_samples):
            pass

        def compute_metrics(self, results):
            return {}

    Unprefixed()
    assert any('prefix is not set' in m for m in logged)
    logged.clear()
    metric = TranslationMetric(missing_weights='fallback',
                               inception_weights=None)
    writer = TranslationImageWriter(out_dir='unused')
    assert metric.prefix == '' and writer.prefix == ''
    assert writer.evaluate(4) == {}  # nothing gathered, nothing to warn
    assert not [m for m in logged if 'prefix' in m or 'empty' in m], logged


def test_without_unused_file_client_restores_the_class():
    import mmengine.runner.checkpoint as module
    original = module.FileClient
    with compat.without_unused_file_client(module):
        assert module.FileClient.infer_client(None, '/tmp') is None
    assert module.FileClient is original
    with pytest.raises(KeyError):
        with compat.without_unused_file_client(module):
            raise KeyError('x')
    assert module.FileClient is original


def test_ddp_gets_forward_sync_buffers_and_does_not_warn(tmp_path):
    cfg = dict(type='MMSeparateDistributedDataParallel',
               broadcast_buffers=False, find_unused_parameters=False)
    fixed = compat.ddp_buffer_sync_cfg(cfg)
    assert fixed['broadcast_buffers'] is None
    assert fixed['forward_sync_buffers'] is False
    assert cfg['broadcast_buffers'] is False  # the input is not changed
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg',
                            rank=0, world_size=1)
    try:
        for kwargs, warns in ((dict(broadcast_buffers=False), True),
                              (dict(broadcast_buffers=None,
                                    forward_sync_buffers=False), False)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                DistributedDataParallel(torch.nn.Linear(2, 2), **kwargs)
            deprecated = [w for w in caught
                          if 'broadcast_buffers' in str(w.message)]
            assert bool(deprecated) == warns, kwargs
    finally:
        dist.destroy_process_group()
