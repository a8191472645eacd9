"""Shared helpers for tests that run the real training tools."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_procedural.py')


def shared_data(name: str) -> str:
    """Path of a data set in ../shared/data (or $MM_CYCLEGAN_SHARED_DATA)."""
    root = os.environ.get('MM_CYCLEGAN_SHARED_DATA',
                          osp.join(osp.dirname(REPO), 'shared', 'data'))
    return osp.join(root, name)


def make_image_folder(root, count=3, size=(40, 40),
                      splits=('train', 'test')):
    """Write a tiny CycleGAN layout of random PNGs (``<split>A``/``B``).

    Tests that need images use this instead of real photos, so they run
    from a clean clone. Returns ``root`` as a str.
    """
    rng = np.random.default_rng(0)
    for split in splits:
        for domain in 'AB':
            folder = osp.join(str(root), f'{split}{domain}')
            os.makedirs(folder, exist_ok=True)
            for k in range(count):
                pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(
                    osp.join(folder, f'{domain.lower()}{k}.png'))
    return str(root)


def load_tool(name, prefix='tool'):
    """Import ``tools/<name>.py`` as a module (to call its ``main(argv)``
    in-process); ``prefix`` names the module, so test files get their own
    copy."""
    spec = importlib.util.spec_from_file_location(
        f'{prefix}_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(args, timeout=600, check=True, env=None):
    """Run ``python tools/<args>`` from the repository root."""
    full_env = dict(os.environ, PYTHONPATH=REPO, **(env or {}))
    result = subprocess.run([sys.executable] + list(args), cwd=REPO,
                            capture_output=True, text=True, timeout=timeout,
                            env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{args} exited {result.returncode}\n'
            f'--- stdout ---\n{result.stdout[-3000:]}\n'
            f'--- stderr ---\n{result.stderr[-5000:]}')
    return result


def train(work_dir, *options, config=TINY_CONFIG, check=True, extra=(),
          env=None):
    """Run tools/train.py with ``--cfg-options`` (``options``)."""
    args = ['tools/train.py', config, '--work-dir', str(work_dir),
            '--no-test'] + list(extra)
    if options:
        args += ['--cfg-options'] + list(options)
    return run_tool(args, check=check, env=env)


def weights(path):
    """The model state dict of a checkpoint (ours load weights_only)."""
    return torch.load(path, map_location='cpu',
                      weights_only=True)['state_dict']


def assert_same_weights(path_a, path_b, context=''):
    """Bit-for-bit equality of two checkpoints' weights.

    ``context`` prefixes the failure message (what a difference means).
    """
    a, b = weights(path_a), weights(path_b)
    assert a.keys() == b.keys(), context
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, (f'{context}{len(differ)} tensors differ, '
                        f'e.g. {differ[:3]}')
