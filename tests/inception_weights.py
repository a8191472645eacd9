"""A pytorch-fid-layout Inception weights file with random weights.

The real file (pt_inception-2015-12-05-6726825d.pth) is never downloaded in
tests; this one has the same keys and shapes, with He-initialised
convolutions so that features have a healthy spread (PyTorch's default
init shrinks them to ~1e-8 through 90 layers).
"""
import os
import os.path as osp

import pytest
import torch
from torch import nn

from mm_cyclegan.evaluation import build_fid_inception


def write_random_inception_weights(path: str, seed: int = 0) -> str:
    """Write a random state dict in the standard key layout to ``path``."""
    torch.manual_seed(seed)
    net = build_fid_inception()
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
    tmp = path + '.tmp'
    torch.save(net.state_dict(), tmp)
    os.replace(tmp, path)
    return path


@pytest.fixture(scope='session')
def inception_weights(tmp_path_factory) -> str:
    """One random weights file per test session (shared by modules)."""
    path = osp.join(str(tmp_path_factory.getbasetemp()),
                    'pt_inception-random.pth')
    if not osp.isfile(path):
        write_random_inception_weights(path)
    return path
