"""SLURM without a cluster: tools/slurm_train.sh under a fake ``srun``
(tests/fake_slurm) trains exactly like torchrun, and the CPU slurm
launcher reads what srun sets."""
import os
import os.path as osp

import pytest
import torch

from mm_cyclegan import compat
from tests.helpers import REPO

FAKE_SLURM = osp.join(REPO, 'tests', 'fake_slurm')


def _srun_env(monkeypatch, tmp_path, **slurm):
    """The variables srun gives a task, with the fake scontrol on PATH."""
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
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
