"""Small items of the newcomer review: --resume of a finished run, the
precision --amp chose, git-ignored output folders."""
import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch

from tests.helpers import REPO, TINY_CONFIG
from tools import train as train_tool


def test_resume_of_a_finished_run_says_so_and_leaves_no_folder(tmp_path,
                                                               capsys):
    work = tmp_path / 'work'
    args = [TINY_CONFIG, '--work-dir', str(work), '--no-test',
            '--max-iters', '2']
    assert train_tool.main(args) == 0
    before = sorted(os.listdir(work))
    capsys.readouterr()
    assert train_tool.main(args + ['--resume']) == 0
    out = capsys.readouterr().out
    assert 'Nothing to do: the run already finished (iteration 2 of 2, ' \
        in out and 'iter_2.pth' in out
    assert sorted(os.listdir(work)) == before  # no new timestamp folder
    # A longer run resumes as before.
    assert train_tool.main(args[:-1] + ['3', '--resume']) == 0
    assert osp.isfile(work / 'iter_3.pth')


def test_amp_logs_the_precision_it_chose(monkeypatch):
    from mm_cyclegan.engine import optim_wrapper
    logged = []
    monkeypatch.setattr(optim_wrapper, '_warned', set())
    monkeypatch.setattr(optim_wrapper, 'print_log',
                        lambda msg, logger=None, level=20: logged.append(
                            (level, msg)))
    from mm_cyclegan.engine import precision
    params = [torch.nn.Parameter(torch.zeros(2))]
    # A CPU with native bf16: 'auto' is bf16 autocast.
    monkeypatch.setattr(precision, 'cpu_bf16_support',
                        lambda: precision.Bf16Support(True, 'native'))
    for _ in range(2):  # generators and discriminators: one line
        optim_wrapper.MixedPrecisionOptimWrapper(
            torch.optim.Adam(params), dtype='auto')
    chosen = [msg for level, msg in logged if level == 20]
    assert chosen == ['Mixed precision: bfloat16 autocast on cpu']
    # Without it: fp32, no autocast, said in one line with the way out.
    monkeypatch.setattr(precision, 'cpu_bf16_support',
                        lambda: precision.Bf16Support(False, 'emulated'))
    logged.clear()
    optim_wrapper._warned.clear()
    wrapper = optim_wrapper.MixedPrecisionOptimWrapper(
        torch.optim.Adam(params), dtype='auto')
    assert wrapper.cast_dtype is None and wrapper.precision == 'float32'
    assert len(logged) == 1 and '\n' not in logged[0][1]
    assert 'fp32' in logged[0][1] and 'amp.dtype=bfloat16' in logged[0][1]
    logged.clear()
    optim_wrapper.MixedPrecisionOptimWrapper(torch.optim.Adam(params),
                                             dtype='float16')
    assert ('Mixed precision: float16 autocast on cpu, loss scaling '
            'dynamic') in [msg for _, msg in logged]


@pytest.mark.skipif(shutil.which('git') is None
                    or not osp.isdir(osp.join(REPO, '.git'))
                    and not osp.isfile(osp.join(REPO, '.git')),
                    reason='not a git checkout')
def test_output_folders_are_git_ignored():
    for path in ('out/a2b/x.png', 'release/model.safetensors',
                 'results/x.png'):
        result = subprocess.run(['git', 'check-ignore', '-q', path],
                                cwd=REPO)
        assert result.returncode == 0, path
