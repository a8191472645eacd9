"""Each workaround in mm_cyclegan.compat, and a check that it is needed."""
import importlib.util
import os
import subprocess
import sys

import pytest
import torch

import mm_cyclegan  # noqa: F401
from mm_cyclegan import compat

HAS_COMPILED_MMCV = importlib.util.find_spec('mmcv._ext') is not None


@pytest.mark.skipif(HAS_COMPILED_MMCV, reason='full mmcv has compiled ops')
def test_mmcv_ops_import_fails_without_patch():
    code = 'import mmcv.ops'
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "No module named 'mmcv._ext'" in result.stderr


@pytest.mark.skipif(HAS_COMPILED_MMCV, reason='full mmcv has compiled ops')
def test_mmcv_ops_import_works_with_patch_and_ops_fail_clearly():
    import mmagic.models  # noqa: F401  (imports mmcv.ops through editors)
    import mmcv.ops
    from mmengine.utils.dl_utils import mmcv_full_available
    with pytest.raises(RuntimeError, match="'nms'.*mmcv-lite"):
        mmcv.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5)
    # MMEngine's probe must still tell the truth (a sys.modules stub lies).
    assert mmcv_full_available() is False


def test_import_leaves_mmengine_checkpoint_loading_alone():
    # The loading policy lives in mm_cyclegan.engine.checkpoint and is used
    # by our runner and tools only: other Runners in a process that imports
    # the plugin (MMagic's custom_imports path) keep MMEngine's behaviour.
    code = ('from mmengine.runner.checkpoint import CheckpointLoader\n'
            "before = CheckpointLoader._schemes['']\n"
            'import mm_cyclegan, mm_cyclegan.engine\n'
            "assert CheckpointLoader._schemes[''] is before\n"
            "assert before.__module__.startswith('mmengine')\n")
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_cpu_ddp_wrapper_cfg():
    cfg = dict(type='MMSeparateDistributedDataParallel')
    fixed = compat.cpu_ddp_wrapper_cfg(cfg)
    assert compat.cpu_ddp_wrapper_cfg(None) is None
    if torch.cuda.is_available():
        assert fixed is cfg
    else:
        assert fixed == dict(cfg, device_ids=None) and 'device_ids' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU machine')
def test_cpu_distributed_init(tmp_path):
    env = dict(os.environ, RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
               MASTER_ADDR='127.0.0.1', MASTER_PORT='29631')
    upstream = ('from mmengine.dist import init_dist\n'
                "init_dist('pytorch', backend='gloo')\n")
    ours = ('import mm_cyclegan.compat as c, torch.distributed as d\n'
            "assert c.init_cpu_distributed('pytorch')\n"
            'assert d.get_backend() == "gloo" and d.get_world_size() == 1\n'
            'd.destroy_process_group()\n')
    failed = subprocess.run([sys.executable, '-c', upstream], env=env,
                            capture_output=True, text=True)
    assert failed.returncode != 0  # torch.cuda.set_device without a GPU
    worked = subprocess.run([sys.executable, '-c', ours], env=env,
                            capture_output=True, text=True)
    assert worked.returncode == 0, worked.stderr[-2000:]


def test_unknown_launcher_is_rejected():
    if torch.cuda.is_available():
        pytest.skip('CUDA machines use MMEngine initialisation')
    with pytest.raises(ValueError, match="'nope'"):
        compat.init_cpu_distributed('nope')


_RECORD_NETWORK = '''
import os, urllib.request
os.environ.pop('NO_ALBUMENTATIONS_UPDATE', None)
calls = []
def refuse(self, url, *args, **kwargs):
    calls.append(getattr(url, 'full_url', url))
    raise OSError('network refused by the test')
urllib.request.OpenerDirector.open = refuse
{first}
import albumentations  # noqa
print('CALLS', len(calls))
'''


def _albumentations_calls(first: str) -> int:
    code = _RECORD_NETWORK.format(first=first)
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split('CALLS')[-1])


def test_albumentations_calls_pypi_on_import_without_the_workaround():
    assert _albumentations_calls('') >= 1


def test_importing_mm_cyclegan_stops_the_albumentations_network_call():
    assert _albumentations_calls('import mm_cyclegan') == 0


def test_albumentations_update_check_respects_the_user_setting(monkeypatch):
    monkeypatch.setenv('NO_ALBUMENTATIONS_UPDATE', '0')
    assert compat.disable_albumentations_update_check() is False
    assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '0'
    monkeypatch.delenv('NO_ALBUMENTATIONS_UPDATE')
    assert compat.disable_albumentations_update_check() is True
    assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '1'
