"""Runs shared by the cluster tests (tests/engine/test_multinode.py,
test_slurm.py, test_rank_failure.py): tools/dist_train.sh on two
torchrun "nodes", the one-process reference, and bit-for-bit comparison of
two runs' checkpoints."""
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import torch

from tests.helpers import REPO, train

CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_cluster.py')
N = 5  # iterations of tiny_cluster.py; checkpoints at 2, 4 and 5
CHECKPOINTS = [f'iter_{i}.pth' for i in (2, 4, N)]
# One intra-op thread everywhere: the runs are compared bit for bit, and
# torchrun sets OMP_NUM_THREADS only with more than one process per node.
THREADS = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
_RUNS: dict = {}


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def script_env(**extra) -> dict:
    """Environment for the shell tools: this interpreter and checkout."""
    return dict(os.environ, PYTHON=sys.executable, PYTHONPATH=REPO,
                **THREADS, **extra)


def _fail(what, outputs):
    tails = '\n'.join(f'--- {name} ---\n{text[-4000:]}'
                      for name, text in outputs.items())
    raise AssertionError(f'{what}\n{tails}')


def run_nodes(work_dir, env_per_node, args, timeout=300):
    """Start ``bash tools/dist_train.sh ARGS`` once per node environment,
    concurrently; return their outputs (raise with them on failure)."""
    procs = []
    for node, env in enumerate(env_per_node):
        log = open(osp.join(str(work_dir), f'node{node}.out'), 'w+')
        procs.append((subprocess.Popen(
            ['bash', 'tools/dist_train.sh', *args], cwd=REPO, env=env,
            stdout=log, stderr=subprocess.STDOUT), log))
    outputs, codes = {}, []
    for node, (proc, log) in enumerate(procs):
        try:
            codes.append(proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            for other, _ in procs:
                other.kill()
            codes.append('timeout')
        log.seek(0)
        outputs[f'node {node}'] = log.read()
        log.close()
    if codes != [0] * len(procs):
        _fail(f'dist_train.sh exit codes {codes}', outputs)
    return outputs


def two_node_run(tmp_path_factory):
    """Work dir of tiny_cluster.py on 2 torchrun nodes x 1 process (c10d
    rendezvous on 127.0.0.1), made once per session."""
    if 'two_nodes' not in _RUNS:
        work_dir = tmp_path_factory.mktemp('two_nodes')
        port = free_port()
        envs = [script_env(NNODES='2', NODE_RANK=str(node),
                           RDZV_BACKEND='c10d', MASTER_ADDR='127.0.0.1',
                           PORT=str(port), RDZV_ID=f'test{port}')
                for node in range(2)]
        run_nodes(work_dir, envs, [CONFIG, '1', '--work-dir', str(work_dir),
                                   '--no-test'])
        _RUNS['two_nodes'] = work_dir
    return _RUNS['two_nodes']


def one_process_run(tmp_path_factory):
    """Work dir of tiny_cluster.py in one process with batches of 2."""
    if 'one_process' not in _RUNS:
        work_dir = tmp_path_factory.mktemp('one_process')
        train(work_dir, 'train_dataloader.batch_size=2', config=CONFIG,
              env=THREADS)
        _RUNS['one_process'] = work_dir
    return _RUNS['one_process']


def load(path):
    """A checkpoint, tensors-only (ours are plain)."""
    return torch.load(path, map_location='cpu', weights_only=True)


def written_files(work_dir):
    """``<rank> <file>`` per file write (RecordWritesHook), in order."""
    with open(osp.join(str(work_dir), 'writes.log')) as f:
        return f.read().split('\n')[:-1]


def differences(a, b, where=''):
    """Paths at which two nested checkpoint values differ (exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f'{where} keys {sorted(a.keys() ^ b.keys())[:3]}']
        return [d for k in a for d in differences(a[k], b[k],
                                                   f'{where}.{k}')]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f'{where} lengths {len(a)} != {len(b)}']
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in differences(x, y, f'{where}[{i}]')]
    if torch.is_tensor(a) and torch.is_tensor(b):
        same = a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = np.array_equal(a, b)
    else:
        same = type(a) is type(b) and a == b
    return [] if same else [where]


# What makes training continue: weights, both optimisers, schedules and
# every rank's pools and random generators.
TRAINING_STATE = ('state_dict', 'optimizer', 'param_schedulers',
                  'image_pools', 'rng_states')


def assert_same_training_state(path_a, path_b, context='', allow=()):
    """Two checkpoints hold bit-identical training state (except the
    entries named in ``allow``, checked by the caller)."""
    a, b = load(path_a), load(path_b)
    differ = [d for key in TRAINING_STATE
              for d in differences(a[key], b[key], key) if d not in allow]
    assert not differ, f'{context}{len(differ)} differ, e.g. {differ[:4]}'
