"""The length of a training run: ``--max-iters`` / ``--max-epochs``.

A run is sized by ``train_cfg.max_iters`` or ``train_cfg.max_epochs``
(exactly one for :class:`~mm_cyclegan.engine.EpochsAsItersTrainLoop`). The
recipes' learning-rate decay is a fraction of the run
(``decay_start_fraction``), so changing the length here keeps its shape.
"""
from __future__ import annotations

import logging
import os.path as osp
import shutil
from typing import Any, Mapping, Optional

from mm_cyclegan.utils.validation import check_int

__all__ = ['RUN_LENGTH_KEYS', 'discard_log_dir', 'set_run_length']

RUN_LENGTH_KEYS = ('max_iters', 'max_epochs')
# Loops that take either key; MMEngine's own take one each.
_EITHER = ('EpochsAsItersTrainLoop', 'mm_cyclegan.EpochsAsItersTrainLoop')
_ONLY = {'IterBasedTrainLoop': 'max_iters',
         'EpochBasedTrainLoop': 'max_epochs'}


def _loop_type(train_cfg: Mapping) -> str:
    kind = train_cfg.get('type')
    if kind is None:
        # MMEngine's rule for a train_cfg without a type.
        return ('EpochBasedTrainLoop' if train_cfg.get('by_epoch')
                else 'IterBasedTrainLoop')
    return str(kind)


def set_run_length(cfg: Any,
                   max_iters: Optional[int] = None,
                   max_epochs: Optional[int] = None,
                   cfg_options: Optional[Mapping] = None) -> None:
    """Size ``cfg``'s training run in place.

    * ``max_iters`` / ``max_epochs`` (the flags, at most one) replace the
      recipe's length, whichever key it used. An ``IterBasedTrainLoop``
      given ``max_epochs`` becomes an ``EpochsAsItersTrainLoop`` (the same
      loop, sized in epochs); an ``EpochBasedTrainLoop`` cannot be given
      ``max_iters``.
    * Without flags, a ``--cfg-options train_cfg.max_iters=N`` (or
      ``max_epochs``) on a recipe sized by the other key replaces it
      instead of leaving both (which the loop refuses).
    """
    if max_iters is not None and max_epochs is not None:
        raise ValueError('give --max-iters or --max-epochs, not both (got '
                         f'{max_iters} and {max_epochs})')
    train_cfg = cfg.get('train_cfg')
    if max_iters is None and max_epochs is None:
        if train_cfg is not None:
            _resolve_options(train_cfg, cfg_options or {})
        return
    key = 'max_iters' if max_iters is not None else 'max_epochs'
    value = check_int(key.replace('_', '-'),
                      max_iters if max_iters is not None else max_epochs, 1)
    if train_cfg is None:
        raise ValueError(f'--{key.replace("_", "-")} needs a train_cfg in '
                         'the config (it has none)')
    kind = _loop_type(train_cfg)
    if kind not in _EITHER:
        only = _ONLY.get(kind.split('.')[-1])
        if only is None:
            raise ValueError(f'--{key.replace("_", "-")}: train_cfg.type='
                             f'{kind!r} is not a loop this tool can size; '
                             'use EpochsAsItersTrainLoop')
        if only != key and kind.split('.')[-1] == 'IterBasedTrainLoop':
            train_cfg['type'] = 'EpochsAsItersTrainLoop'
        elif only != key:
            raise ValueError(
                f'--{key.replace("_", "-")}: train_cfg.type={kind!r} counts '
                f'in epochs only; use --max-epochs, or '
                'EpochsAsItersTrainLoop')
    for other in RUN_LENGTH_KEYS:
        train_cfg.pop(other, None)
    train_cfg[key] = value


def _resolve_options(train_cfg: Any, cfg_options: Mapping) -> None:
    """Keep the run-length key ``--cfg-options`` set when the config file
    set the other one."""
    given = [k for k in RUN_LENGTH_KEYS
             if f'train_cfg.{k}' in cfg_options
             and cfg_options[f'train_cfg.{k}'] is not None]
    if len(given) != 1 or _loop_type(train_cfg) not in _EITHER:
        return
    for other in RUN_LENGTH_KEYS:
        if other != given[0] and train_cfg.get(other) is not None:
            train_cfg.pop(other)


def discard_log_dir(runner: Any) -> None:
    """Close the runner's log file and delete its timestamped log folder.

    For a run that did nothing (``--resume`` of a finished run): the folder
    would hold only a start-up log and look like a run.
    """
    from mmengine.dist import is_main_process
    for handler in list(runner.logger.handlers):
        if isinstance(handler, logging.FileHandler):
            handler.close()
            runner.logger.removeHandler(handler)
    log_dir = str(runner.log_dir)
    work_dir = osp.abspath(str(runner.work_dir))
    # Only a folder inside the work dir, never the work dir itself.
    if is_main_process() and osp.abspath(log_dir) != work_dir and \
            osp.abspath(log_dir).startswith(work_dir + osp.sep):
        shutil.rmtree(log_dir, ignore_errors=True)
