"""Helpers behind ``tools/train.py``: config preparation, data preflight,
and the end-of-run report."""
from __future__ import annotations

import argparse
import glob
import os.path as osp
from typing import Optional

from mmengine.config import Config

_FOLDER_DATASETS = ('UnpairedImageDataset', 'mm_cyclegan.UnpairedImageDataset')


def prepare_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('work_dirs', name)
    cfg.launcher = args.launcher
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    elif getattr(args, 'load_from', None):
        cfg.resume, cfg.load_from = False, args.load_from
    if args.amp or cfg.get('amp'):
        enable_amp(cfg)
    return cfg


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


def preflight_data(cfg: Config) -> Optional[str]:
    """Return a message when the training images are missing, else None."""
    loader = cfg.get('train_dataloader') or {}
    dataset = loader.get('dataset') or {}
    if dataset.get('type') not in _FOLDER_DATASETS:
        return None
    root = dataset.get('data_root')
    folders = [dataset.get('folder_a') or 'trainA',
               dataset.get('folder_b') or 'trainB']
    missing = [f for f in folders
               if not osp.isdir(osp.join(str(root), f))
               or not glob.glob(osp.join(str(root), f, '*'))]
    if not missing:
        return None
    name = osp.basename(osp.normpath(str(root)))
    return (
        f'No training images for this config: {root!s}/ needs the folders '
        f'{", ".join(folders)} with images (missing or empty: '
        f'{", ".join(missing)}).\n'
        f'  * Your own data: put domain A images in {root}/{folders[0]}/ and '
        f'domain B images in {root}/{folders[1]}/ (testA/ and testB/ for '
        'evaluation), any of jpg/png/bmp/tif/webp.\n'
        f'  * A classic set: python tools/download_dataset.py {name} '
        '(horse2zebra, summer2winter_yosemite, monet2photo, ...).\n'
        '  * No data at hand: make demo (trains on built-in procedural '
        'landscapes).')


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
        try:
            from mm_cyclegan.evaluation import format_metric_table
            lines.append('')
            lines.append(format_metric_table(metrics))
        except (ImportError, KeyError, ValueError):
            lines.append(f'Metrics: {metrics}')
    print('\n'.join(lines), flush=True)


__all__ = ['enable_amp', 'preflight_data', 'prepare_config',
           'report_results']
