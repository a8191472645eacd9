"""A run's timestamp that no earlier run shares, agreed across ranks."""
from __future__ import annotations

import os.path as osp

import torch
from mmengine.dist import all_reduce, is_distributed

from mm_cyclegan.compat import logger_instance_names


def unique_timestamp(base: str, work_dir: str) -> str:
    """``base`` (MMEngine's timestamp in whole seconds), or ``base_N`` with
    the smallest ``N`` no log dir in ``work_dir`` and no logger of this
    process uses.

    MMEngine names the log dir and the experiment (its logger, message hub
    and visualizer instances) after the timestamp. A second runner built
    within the same second, in the same process or work dir, would reuse
    the first one's logger (and log file) and log dir; the suffix keeps
    them apart. Every rank takes the largest suffix any rank needs, so
    names agree across DDP ranks.
    """
    taken = logger_instance_names()

    def in_use(stamp: str) -> bool:
        return (osp.exists(osp.join(work_dir, stamp)) or
                any(name == stamp or name.endswith('_' + stamp)
                    for name in taken))

    suffix = 0
    while in_use(base if not suffix else f'{base}_{suffix}'):
        suffix += 1
    if is_distributed():
        agreed = torch.tensor(suffix, dtype=torch.int64)
        all_reduce(agreed, op='max')
        suffix = int(agreed.item())
    return f'{base}_{suffix}' if suffix else base
