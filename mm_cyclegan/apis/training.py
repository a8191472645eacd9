"""Helpers behind ``tools/train.py``: config preparation, the work dir of
an earlier run, and the end-of-run report. The start-up checks are in
:mod:`mm_cyclegan.engine.preflight`."""
from __future__ import annotations

import argparse
import ast
import difflib
import glob
import os
import os.path as osp
import re
import time
import warnings
from typing import Optional, Sequence

from mmengine.config import Config

from mm_cyclegan.engine.checkpoint.pointer import POINTER_NAME

#: Top-level config keys that the runner, MMEngine or the tools read.
KNOWN_CONFIG_KEYS = frozenset({
    'auto_scale_lr', 'cfg', 'compile', 'custom_hooks', 'custom_imports',
    'data_preprocessor', 'default_hooks', 'default_scope', 'env_cfg',
    'experiment_name', 'launcher', 'load_from', 'load_partial', 'log_level',
    'log_processor', 'model', 'model_wrapper_cfg', 'optim_wrapper',
    'param_scheduler', 'randomness', 'resume', 'runner_type', 'strategy',
    'test_cfg', 'test_dataloader', 'test_evaluator', 'train_cfg',
    'train_dataloader', 'val_cfg', 'val_dataloader', 'val_evaluator',
    'visualizer', 'work_dir'
})


class ConfigFileError(ValueError):
    """A config file (or one of its ``_base_`` files) cannot be read."""


def _syntax_problem(path: str, seen: set[str]) -> Optional[str]:
    """The first syntax error in ``path`` or its ``_base_`` files."""
    path = osp.abspath(path)
    if path in seen or not path.endswith('.py') or not osp.isfile(path):
        return None
    seen.add(path)
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        return (f'syntax error in config file {path}, line {err.lineno}: '
                f'{err.msg}')
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets)):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return None
            for base in [bases] if isinstance(bases, str) else bases:
                found = _syntax_problem(
                    osp.join(osp.dirname(path), str(base)), seen)
                if found:
                    return found
    return None


def load_config(path: str) -> Config:
    """``Config.fromfile`` whose syntax errors name the file and line
    (MMEngine reports ``<unknown>`` for the file)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    try:
        return Config.fromfile(path)
    except SyntaxError as err:
        problem = _syntax_problem(path, set())
        raise ConfigFileError(problem or f'{path}: {err}') from None


def unknown_config_keys(cfg: Config) -> list[str]:
    """Warnings for top-level keys nothing reads that resemble known ones
    (``randomnes`` -> ``randomness``); helper variables that resemble
    nothing (``data_root``) are not reported."""
    messages = []
    for key in sorted(cfg.keys()):
        if key in KNOWN_CONFIG_KEYS or key.startswith('_'):
            continue
        close = difflib.get_close_matches(key, KNOWN_CONFIG_KEYS, n=1,
                                          cutoff=0.75)
        if close:
            messages.append(f'config key {key!r} is not used by anything; '
                            f'did you mean {close[0]!r}?')
    return messages


def prepare_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it.

    Shared by ``tools/train.py`` and ``tools/test.py``; options a tool does
    not have are skipped. Prints a warning for a mistyped top-level key.
    """
    cfg = load_config(args.config)
    if getattr(args, 'cfg_options', None):
        cfg.merge_from_dict(args.cfg_options)
    for message in unknown_config_keys(cfg):
        warnings.warn(message, UserWarning, stacklevel=2)
    if getattr(args, 'work_dir', None):
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('work_dirs', name)
    cfg.launcher = getattr(args, 'launcher', 'none')
    _cpu_backend(cfg)
    resume = getattr(args, 'resume', None)
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume:
        cfg.resume, cfg.load_from = True, resume
    elif getattr(args, 'load_from', None):
        cfg.resume, cfg.load_from = False, args.load_from
    if getattr(args, 'partial', False):
        cfg.load_partial = True
    if getattr(args, 'amp', False) or cfg.get('amp'):
        enable_amp(cfg)
    return cfg


def _cpu_backend(cfg: Config) -> None:
    """Without CUDA, distributed runs use gloo: say so in the config (and
    the log) instead of the recipes' nccl."""
    import torch
    dist_cfg = (cfg.get('env_cfg') or {}).get('dist_cfg')
    if dist_cfg is not None and not torch.cuda.is_available():
        dist_cfg['backend'] = 'gloo'


#: Names a training run writes into its work dir (besides the dumped
#: config): checkpoints, the pointer, unfinished and damaged saves, and its
#: timestamped log folders.
_RUN_FILE_RE = re.compile(
    r'^(?:(?:iter|epoch)_\d+\.pth|best_.+\.pth)(?:\.tmp|\.damaged(?:\.\d+)?)?$'
    rf'|^{re.escape(POINTER_NAME)}$')
_RUN_DIR_RE = re.compile(r'^\d{8}_\d{6}(?:_\d+)?$')
PREVIOUS_DIR = 'previous'


def previous_run_files(work_dir: str, keep: Sequence[str] = ()) -> list:
    """The files and log folders an earlier run wrote into ``work_dir``
    (``iter_N.pth``, ``epoch_N.pth``, ``best_*.pth``, ``last_checkpoint``,
    ``*.tmp`` / ``*.damaged`` of those, ``YYYYMMDD_HHMMSS[_N]/``), sorted;
    names in ``keep`` (e.g. the new run's own log folder) excluded. A
    user's other files (``my_weights.pth``) are never listed."""
    if not osp.isdir(work_dir):
        return []
    found = []
    for name in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, name)
        if name in keep or osp.islink(path):
            continue
        if (osp.isfile(path) and _RUN_FILE_RE.match(name)) or (
                osp.isdir(path) and _RUN_DIR_RE.match(name)):
            found.append(path)
    return found


def existing_run_problem(cfg: Config) -> Optional[str]:
    """A message when a training run from scratch would write into a work
    dir that holds another run's checkpoints, else ``None``."""
    if cfg.get('resume'):
        return None
    work_dir = str(cfg.work_dir)
    found = [p for p in previous_run_files(work_dir) if not osp.isdir(p)]
    if not found:
        return None
    names = ', '.join(osp.basename(p) for p in found[:4]) + (
        ', ...' if len(found) > 4 else '')
    return (f'{work_dir} already holds checkpoints of an earlier run '
            f'({names}); training from scratch would overwrite them.\n'
            '  * continue that run: add --resume\n'
            '  * keep it and start another: --work-dir NEW_DIR\n'
            '  * replace it: add --overwrite (moves that run\'s files to '
            f'{PREVIOUS_DIR}/<time>/ in the work dir)')


def remove_previous_run(cfg: Config, keep: Sequence[str] = ()) -> list:
    """``--overwrite``: move an earlier run's own files
    (:func:`previous_run_files`) into ``previous/<YYYYMMDD_HHMMSS>/`` inside
    the work dir, so neither rotation nor a later ``--resume`` mixes the
    two runs, and nothing is deleted. Each move is one rename; if one
    fails, the ones done are undone and the error raised. Main process
    only; returns the new paths (empty on other ranks)."""
    from mmengine.dist import is_main_process
    if not is_main_process():
        return []
    work_dir = str(cfg.work_dir)
    found = previous_run_files(work_dir, keep)
    if not found:
        return []
    stamp = time.strftime('%Y%m%d_%H%M%S')
    target = osp.join(work_dir, PREVIOUS_DIR, stamp)
    number = 0
    while osp.lexists(target):
        number += 1
        target = osp.join(work_dir, PREVIOUS_DIR, f'{stamp}_{number}')
    os.makedirs(target)
    moved: list = []
    try:
        for path in found:
            new = osp.join(target, osp.basename(path))
            os.rename(path, new)
            moved.append((path, new))
    except OSError:
        for path, new in reversed(moved):
            os.rename(new, path)
        os.rmdir(target)
        raise
    return [new for _, new in moved]


def build_runner(cfg: Config):
    """Build the runner the config names (``runner_type``, looked up in the
    ``RUNNERS`` registry); :class:`CycleGANRunner` when it names none."""
    from mm_cyclegan.registry import RUNNERS
    if cfg.get('runner_type') is None:
        from mm_cyclegan.engine import CycleGANRunner
        return CycleGANRunner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def enable_amp(cfg: Config) -> None:
    """Train both optimisers in mixed precision, on any device.

    Sets both CycleGAN optim wrappers to ``MixedPrecisionOptimWrapper``
    (autocast: bf16 on CPUs, bf16 or fp16 with loss scaling on CUDA). Used
    by ``--amp`` and by ``amp = True`` (or ``amp = dict(dtype='bfloat16')``)
    in a config. Unlike MMagic's ``--amp`` (a silent no-op for CycleGAN
    configs, whose optimiser entries have no ``type``) it reaches both
    optimisers, and unlike MMEngine's ``AmpOptimWrapper`` it needs no GPU.
    """
    amp = cfg.get('amp')
    dtype = amp.get('dtype', 'auto') if isinstance(amp, dict) else 'auto'
    optim = cfg.optim_wrapper
    groups = [optim[k] for k in ('generators', 'discriminators')
              if k in optim] or [optim]
    for group in groups:
        kind = group.get('type', 'OptimWrapper')
        if kind not in ('OptimWrapper', 'AmpOptimWrapper',
                        'MixedPrecisionOptimWrapper'):
            raise ValueError(f'--amp cannot convert an optim wrapper of type '
                             f'{kind!r}; expected OptimWrapper')
        group['type'] = 'MixedPrecisionOptimWrapper'
        if group.get('dtype') is None:
            group['dtype'] = dtype


def report_results(runner, metrics: Optional[dict]) -> None:
    """Print where the outputs are and, for paired metrics, the table."""
    from mmengine.dist import is_main_process
    if not is_main_process():
        return
    lines = ['', f'Work directory: {osp.abspath(runner.work_dir)}']
    ckpts = sorted(glob.glob(osp.join(runner.work_dir, '*.pth')),
                   key=osp.getmtime)
    if ckpts:
        lines.append(f'Latest checkpoint: {ckpts[-1]}')
    grids = sorted(glob.glob(osp.join(runner.log_dir, 'vis_data', 'vis_image',
                                      '*.png')), key=osp.getmtime)
    if grids:
        lines.append(f'Sample grids ({len(grids)}): '
                     f'{osp.dirname(grids[-1])} (newest: '
                     f'{osp.basename(grids[-1])})')
    events = glob.glob(osp.join(runner.log_dir, 'vis_data', 'events.*'))
    if events:
        lines.append('TensorBoard: tensorboard --logdir '
                     f'{osp.join(runner.log_dir, "vis_data")}')
    if metrics:
        from mm_cyclegan.evaluation import (
            format_metric_table,
            format_translation_table,
        )

        # Each metric's own table: paired PSNR/SSIM when the test set has
        # ground truth, else (or also) the unpaired FID/KID/cycle table.
        lines.append('')
        if any('psnr' in key for key in metrics):
            lines.append(format_metric_table(metrics))
        if any(key.endswith(('fid', 'kid', 'cycle_l1')) for key in metrics):
            lines.append(format_translation_table(metrics))
    print('\n'.join(lines), flush=True)


__all__ = [
    'ConfigFileError', 'KNOWN_CONFIG_KEYS', 'build_runner', 'enable_amp',
    'existing_run_problem', 'load_config', 'prepare_config',
    'previous_run_files', 'remove_previous_run', 'report_results',
    'unknown_config_keys'
]
