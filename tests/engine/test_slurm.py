"""SLURM without a cluster: tools/slurm_train.sh under a fake ``srun``
(tests/fake_slurm) trains exactly like torchrun, and the CPU slurm
launcher reads what srun sets."""
import os
import os.path as osp
import subprocess

import pytest
import torch

from mm_cyclegan import compat
from tests.cluster import (
    CHECKPOINTS,
    CONFIG,
    REPO,
    N,
    assert_same_training_state,
    free_port,
    script_env,
    two_node_run,
    written_files,
)

FAKE_SLURM = osp.join(REPO, 'tests', 'fake_slurm')


def _srun_env(monkeypatch, tmp_path, **slurm):
    """The variables srun gives a task, with the fake scontrol on PATH."""
    # init_cpu_distributed sets these in os.environ: set then delete each
    # through monkeypatch, so that they are removed again afterwards.
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.setenv(key, '')
        monkeypatch.delenv(key)
    # tools/train.py sets LOCAL_RANK (from --local-rank, default 0) before
    # the process group is initialised.
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('PATH', FAKE_SLURM + os.pathsep + os.environ['PATH'])
    monkeypatch.setenv('FAKE_SLURM_LOG', str(tmp_path / 'slurm.log'))
    for key, value in slurm.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def captured_init(monkeypatch):
    """Replace ``init_process_group``; record its arguments and the env."""
    import torch.distributed as dist
    calls = []

    def init_process_group(**kwargs):
        calls.append(dict(kwargs, env={
            k: os.environ.get(k) for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK',
                                           'MASTER_ADDR', 'MASTER_PORT')}))
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist, 'init_process_group', init_process_group)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    return calls


def test_slurm_launcher_on_cpu_takes_rank_and_first_node_from_srun(
        monkeypatch, tmp_path, captured_init):
    # Task 3 of 4, the second task on the second of two nodes.
    _srun_env(monkeypatch, tmp_path, SLURM_PROCID='3', SLURM_NTASKS='4',
              SLURM_LOCALID='1', SLURM_NODEID='1', SLURM_NNODES='2',
              SLURM_NODELIST='127.0.0.[2-3]',
              SLURM_JOB_NODELIST='127.0.0.[2-3]')
    assert compat.init_cpu_distributed('slurm')
    (call,) = captured_init
    assert (call['backend'], call['rank'], call['world_size']) == (
        'gloo', 3, 4)
    # LOCAL_RANK is the task's index on its node, not train.py's default;
    # every node connects to the first node, as MMEngine's launcher does.
    assert call['env'] == dict(RANK='3', WORLD_SIZE='4', LOCAL_RANK='1',
                               MASTER_ADDR='127.0.0.2', MASTER_PORT='29500')
    assert 'scontrol show hostnames 127.0.0.[2-3]' in (
        tmp_path / 'slurm.log').read_text()


def test_slurm_launcher_keeps_a_given_master_address_and_port(
        monkeypatch, tmp_path, captured_init):
    _srun_env(monkeypatch, tmp_path, SLURM_PROCID='0', SLURM_NTASKS='2',
              SLURM_LOCALID='0', SLURM_NNODES='2',
              SLURM_NODELIST='127.0.0.[2-3]', MASTER_ADDR='10.0.0.7',
              MASTER_PORT='29611')
    compat.init_cpu_distributed('slurm')
    env = captured_init[0]['env']
    assert (env['MASTER_ADDR'], env['MASTER_PORT']) == ('10.0.0.7', '29611')
    assert not (tmp_path / 'slurm.log').exists()  # scontrol not needed


def test_slurm_launcher_without_scontrol(monkeypatch, tmp_path,
                                         captured_init):
    """One node needs no scontrol; several nodes without it cannot know
    the first node's address: the error says what to set."""
    _srun_env(monkeypatch, tmp_path, SLURM_PROCID='1', SLURM_NTASKS='2',
              SLURM_LOCALID='1', SLURM_NNODES='1', SLURM_NODELIST='cn07')
    monkeypatch.setenv('PATH', str(tmp_path))  # no scontrol
    compat.init_cpu_distributed('slurm')
    assert captured_init[0]['env']['MASTER_ADDR'] == '127.0.0.1'
    monkeypatch.setenv('SLURM_NNODES', '2')
    monkeypatch.setenv('SLURM_NODELIST', 'cn[07-08]')
    monkeypatch.delenv('MASTER_ADDR')
    with pytest.raises(RuntimeError, match='MASTER_ADDR'):
        compat.init_cpu_distributed('slurm')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU (gloo) test')
def test_slurm_train_sh_under_fake_srun_equals_torchrun(tmp_path,
                                                        tmp_path_factory):
    """2 tasks on 2 nodes (GPUS=2, GPUS_PER_NODE=1) on a CPU partition."""
    work_dir = tmp_path / 'work'
    log = tmp_path / 'slurm.log'
    env = script_env(PATH=FAKE_SLURM + os.pathsep + os.environ['PATH'],
                     FAKE_SLURM_LOG=str(log), MASTER_PORT=str(free_port()),
                     GPUS='2', GPUS_PER_NODE='1', GRES='', CPUS_PER_TASK='1')
    result = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'cpu', 'tiny', CONFIG,
         str(work_dir), '--no-test'], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]
    calls = log.read_text().splitlines()
    assert calls[0] == ('srun partition=cpu job-name=tiny ntasks=2 '
                        'ntasks-per-node=1 cpus-per-task=1 gres= '
                        'kill-on-bad-exit=1')
    # Both tasks asked for the first node (127.0.0.2, not a default).
    assert calls[1:] == ['scontrol show hostnames 127.0.0.[2-3]'] * 2
    assert written_files(work_dir) == [f'0 {name}.tmp'
                                       for name in CHECKPOINTS]
    assert_same_training_state(work_dir / f'iter_{N}.pth',
                               two_node_run(tmp_path_factory) /
                               f'iter_{N}.pth',
                               'SLURM and torchrun runs differ: ')
