"""tools/dist_train.sh, dist_test.sh and slurm_train.sh: usage lines, and
what they hand to torchrun / srun (a stand-in ``$PYTHON`` prints its
arguments; no training runs here)."""
import os
import os.path as osp
import subprocess

import pytest

from tests.helpers import REPO

FAKE_SLURM = osp.join(REPO, 'tests', 'fake_slurm')
# Prints one line (one write: concurrent tasks do not interleave): the
# variables under test, then its arguments separated by "|".
ECHO_PYTHON = '''#!/usr/bin/env bash
echo "CALL task=${SLURM_PROCID:-} node=${SLURM_NODEID:-}" \\
    "no_shared_store=${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-}" \\
    "args=$(printf '%s|' "$@")"
'''


@pytest.fixture
def echo_python(tmp_path):
    path = tmp_path / 'python'
    path.write_text(ECHO_PYTHON)
    path.chmod(0o755)
    return str(path)


def _run(script, *args, **env):
    full = dict(os.environ, **env)
    for key in ('NNODES', 'NODE_RANK', 'PORT', 'MASTER_ADDR', 'MAX_RESTARTS',
                'RDZV_BACKEND', 'TORCHRUN_ARGS', 'GPUS', 'GPUS_PER_NODE',
                'GRES', 'SRUN_ARGS', 'TORCH_DISABLE_SHARE_RDZV_TCP_STORE'):
        if key not in env:
            full.pop(key, None)
    return subprocess.run(['bash', f'tools/{script}', *args], cwd=REPO,
                          env=full, capture_output=True, text=True,
                          timeout=60)


def _calls(result):
    """(variables, arguments) of each call of the stand-in python."""
    calls = []
    for line in sorted(result.stdout.splitlines()):
        assert line.startswith('CALL '), line
        head, args = line[5:].split(' args=')
        calls.append((head, args.split('|')[:-1]))
    return calls


def _args(result):
    (call,) = _calls(result)
    return call[1]


@pytest.mark.parametrize('script, args, usage', [
    ('dist_train.sh', [], 'usage: bash tools/dist_train.sh CONFIG GPUS'),
    ('dist_train.sh', ['c.py'], 'usage: bash tools/dist_train.sh CONFIG'),
    ('dist_test.sh', ['c.py', 'w.pth'],
     'usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS'),
    ('slurm_train.sh', [], 'usage: [GPUS=N] bash tools/slurm_train.sh '
     'PARTITION JOB_NAME CONFIG WORK_DIR'),
])
def test_missing_arguments_print_usage_and_exit_2(script, args, usage):
    result = _run(script, *args)
    assert result.returncode == 2
    assert result.stderr.startswith(usage), result.stderr
    assert 'unbound variable' not in result.stderr
    assert result.stdout == ''


def test_each_script_header_names_the_script_itself():
    for script in ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh'):
        with open(osp.join(REPO, 'tools', script)) as f:
            header = f.read().split('set -euo pipefail')[0]
        assert f'tools/{script}' in header
        others = {'dist_train.sh', 'dist_test.sh', 'slurm_train.sh'} - {
            script}
        assert not any(f'tools/{o}' in header for o in others), script


def test_dist_train_single_node_defaults(echo_python):
    result = _run('dist_train.sh', 'c.py', '2', '--amp', PYTHON=echo_python)
    assert result.returncode == 0, result.stderr
    assert _args(result) == [
        '-m', 'torch.distributed.run', '--nnodes=1', '--nproc_per_node=2',
        '--max_restarts=0', '--node_rank=0', '--master_addr=127.0.0.1',
        '--master_port=29500', osp.join(REPO, 'tools', 'train.py'), 'c.py',
        '--launcher', 'pytorch', '--amp']
    assert 'no_shared_store= ' in result.stdout


def test_dist_train_restarts_use_c10d_with_a_store_per_attempt(
        echo_python):
    result = _run('dist_train.sh', 'c.py', '8', '--resume',
                  PYTHON=echo_python, MAX_RESTARTS='3', NNODES='2',
                  MASTER_ADDR='node0', PORT='29600',
                  TORCHRUN_ARGS='--monitor-interval=1 --redirects=3')
    assert result.returncode == 0, result.stderr
    assert _args(result)[2:10] == [
        '--nnodes=2', '--nproc_per_node=8', '--max_restarts=3',
        '--rdzv_backend=c10d', '--rdzv_endpoint=node0:29600',
        '--rdzv_id=mm_cyclegan', '--monitor-interval=1', '--redirects=3']
    assert 'no_shared_store=1 ' in result.stdout
    assert result.stderr == ''


def test_dist_train_warns_about_restarts_without_resume(echo_python):
    result = _run('dist_train.sh', 'c.py', '2', PYTHON=echo_python,
                  MAX_RESTARTS='1')
    assert 'MAX_RESTARTS=1 without --resume' in result.stderr
    result = _run('dist_train.sh', 'c.py', '2', '--resume',
                  PYTHON=echo_python, MAX_RESTARTS='1',
                  RDZV_BACKEND='static')
    assert 'RDZV_BACKEND=static' in result.stderr


def test_slurm_train_runs_python_from_env_under_srun(echo_python,
                                                     tmp_path):
    log = tmp_path / 'slurm.log'
    path = FAKE_SLURM + os.pathsep + os.environ['PATH']
    result = _run('slurm_train.sh', 'gpu', 'job', 'c.py', 'out', '--amp',
                  PYTHON=echo_python, PATH=path, FAKE_SLURM_LOG=str(log),
                  GPUS='2', GPUS_PER_NODE='1')
    assert result.returncode == 0, result.stderr
    # Two tasks on two nodes, each running $PYTHON (not `python`).
    args = ['-u', osp.join(REPO, 'tools', 'train.py'), 'c.py',
            '--work-dir=out', '--launcher', 'slurm', '--amp']
    assert _calls(result) == [
        ('task=0 node=0 no_shared_store=', args),
        ('task=1 node=1 no_shared_store=', args)]
    assert log.read_text() == (
        'srun partition=gpu job-name=job ntasks=2 ntasks-per-node=1 '
        'cpus-per-task=5 gres=gpu:1 kill-on-bad-exit=1\n')


def test_slurm_train_default_partition_and_no_gres(echo_python, tmp_path):
    log = tmp_path / 'slurm.log'
    path = FAKE_SLURM + os.pathsep + os.environ['PATH']
    result = _run('slurm_train.sh', '', 'job', 'c.py', 'out',
                  PYTHON=echo_python, PATH=path, FAKE_SLURM_LOG=str(log),
                  GPUS='1', GPUS_PER_NODE='1', GRES='')
    assert result.returncode == 0, result.stderr
    assert log.read_text().startswith('srun partition= job-name=job')
    assert ' gres= ' in log.read_text()
