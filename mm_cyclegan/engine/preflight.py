"""Every start-up check of a training run, in one place.

In the order ``tools/train.py`` runs them (docs/safety.md):

1. **config**: after the config is loaded, before anything is built:
   :func:`preflight_data` (training images present) and
   :func:`preflight_evaluation` (test folders, Inception weights). They
   return a message for the user (or ``None``).
2. **runner build**: :class:`~mm_cyclegan.engine.CycleGANRunner` runs
   :func:`check_runner_config` once MMEngine built it (value types and
   ranges, checkpoint-hook arguments, channels).
3. **start-up**: before the first iteration (or before ``--overwrite``
   touches an earlier run) :func:`check_training_images` checks the built
   dataset against the built model.

The runner's checks raise :class:`StartupCheckError` naming the key and
value.
"""
from __future__ import annotations

import difflib
import glob
import inspect
import logging
import os.path as osp
from collections.abc import Mapping
from typing import Any, Iterable, Iterator, Optional

from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner import Runner

from mm_cyclegan.datasets.padding import padded_size
from mm_cyclegan.datasets.transforms import PAD_MULTIPLE
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from mm_cyclegan.evaluation.inception import (
    InceptionWeightsMissing,
    find_inception_weights,
)
from mm_cyclegan.utils.validation import check_int, check_number

__all__ = [
    'StartupCheckError', 'check_runner_config', 'check_training_images',
    'preflight_data', 'preflight_evaluation', 'preflight_inception'
]

_FOLDER_DATASETS = ('UnpairedImageDataset',
                    'mm_cyclegan.UnpairedImageDataset')
_METRICS = ('TranslationMetric', 'mm_cyclegan.TranslationMetric')


class StartupCheckError(ValueError):
    """The config cannot work; found before the first iteration."""


# ----------------------------------------------------- 1. config: the data
def preflight_data(cfg: Any) -> Optional[str]:
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
    return (
        f'No training images for this config: {root!s}/ needs the folders '
        f'{", ".join(folders)} with images (missing or empty: '
        f'{", ".join(missing)}).\n'
        f'  * Your own data: put domain A images in {root}/{folders[0]}/ and '
        f'domain B images in {root}/{folders[1]}/ (testA/ and testB/ for '
        'evaluation), any of jpg/png/bmp/tif/webp.\n'
        f'{_download_hint(str(root))}\n'
        '  * No data at hand: make demo (trains on built-in procedural '
        'landscapes).')


def _download_hint(root: str) -> str:
    """The download command that fills ``root``, when its name is known."""
    from mm_cyclegan.datasets.download import KNOWN_DATASETS
    name = osp.basename(osp.normpath(root))
    parent = osp.dirname(osp.normpath(root)) or '.'
    if name not in KNOWN_DATASETS:
        return ('  * A known set: python tools/download_dataset.py NAME '
                f'--root {parent} (NAME: {", ".join(KNOWN_DATASETS)}), '
                'then set data_root to its folder.')
    extra = ''
    if name == 'photo2anime':
        extra = (' [--style hayao|shinkai|paprika] (AnimeGAN dataset, '
                 'non-commercial research only)')
    return (f'  * Download it: python tools/download_dataset.py {name} '
            f'--root {parent}{extra}')


# ----------------------------------------------- 1. config: the evaluation
def _metric_cfgs(evaluator: Any) -> Iterator[Mapping]:
    if isinstance(evaluator, Mapping):
        if 'metrics' in evaluator:
            yield from _metric_cfgs(evaluator['metrics'])
        else:
            yield evaluator
    elif isinstance(evaluator, (list, tuple)):
        for item in evaluator:
            yield from _metric_cfgs(item)


def preflight_inception(cfg: Any) -> Optional[str]:
    """A message when a ``TranslationMetric`` of ``cfg`` cannot start.

    Checked before the runner is built, so a run that would evaluate FID
    fails in seconds rather than at its first evaluation. Only metrics with
    ``missing_weights='error'`` (the default) stop the run; with
    ``'fallback'`` the metric itself warns once when it is built (before
    the first training iteration) and evaluates without FID/KID.
    """
    for key in ('val_evaluator', 'test_evaluator'):
        for metric in _metric_cfgs(cfg.get(key)):
            if metric.get('type') not in _METRICS:
                continue
            if metric.get('missing_weights', 'error') != 'error':
                continue
            try:
                find_inception_weights(metric.get('inception_weights'))
            except InceptionWeightsMissing as error:
                return (f'{key} needs FID/KID: {error}\n  Or evaluate '
                        'without FID/KID: set missing_weights="fallback" '
                        'in the TranslationMetric config.')
    return None


def _missing_test_folders(loader: Any) -> list[str]:
    """Image folders of a folder-dataset loader that are absent or empty."""
    dataset = (loader or {}).get('dataset') or {}
    if dataset.get('type') not in _FOLDER_DATASETS:
        return []
    root, split = str(dataset.get('data_root')), dataset.get('split', 'test')
    missing = []
    for domain in ('a', 'b'):
        folder = osp.join(root, dataset.get(f'folder_{domain}')
                          or f'{split}{domain.upper()}')
        if not glob.glob(osp.join(folder, '*')):
            missing.append(folder)
    return missing


def preflight_evaluation(cfg: Any) -> Optional[str]:
    """Make the evaluation of ``cfg`` start cleanly, before the runner.

    * Recipes evaluate on ``testA``/``testB`` *when present*: if a val or
      test loader's folders are absent or empty, that evaluation is
      switched off in ``cfg`` with one warning (a data set without a test
      split still trains).
    * Returns a message (the caller stops) when a ``TranslationMetric``
      that insists on FID cannot find the Inception weights; see
      :func:`preflight_inception`.
    """
    missing: list[str] = []
    stages = []
    for stage in ('val', 'test'):
        folders = _missing_test_folders(cfg.get(f'{stage}_dataloader'))
        if folders:
            stages.append(stage)
            missing += [f for f in folders if f not in missing]
            for key in ('dataloader', 'cfg', 'evaluator'):
                cfg[f'{stage}_{key}'] = None
    if stages:
        print_log(
            f'No test images ({", ".join(missing)} absent or empty): '
            f'{" and ".join(stages)} evaluation is off for this run. Put '
            'held-out images there to get FID/KID per direction.',
            logger='current', level=logging.WARNING)
    return preflight_inception(cfg)


# ------------------------------------------------------ 2. runner build
def check_runner_config(cfg: Any, hooks: Iterable, model: Any) -> None:
    """The checks of a just-built runner: its config values, checkpoint
    hook arguments and dataset channels (``model`` unwrapped)."""
    check_config_values(cfg or {})
    check_checkpoint_hook_args(hooks)
    check_channels(cfg or {}, model)


def check_config_values(cfg: Any) -> None:
    """Iterations, batch sizes and learning rates: named errors now,
    not a traceback from deep inside a loop, loader or optimiser."""
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_iters', 'max_epochs', 'val_interval'):
        if train_cfg.get(key) is not None:
            check_int(f'train_cfg.{key}', train_cfg[key], 1,
                      StartupCheckError)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        section = cfg.get(loader)
        if isinstance(section, dict) and \
                section.get('batch_size') is not None:
            check_int(f'{loader}.batch_size', section['batch_size'], 1,
                      StartupCheckError)
    optim = cfg.get('optim_wrapper') or {}
    groups = [(f'optim_wrapper.{name}', group)
              for name, group in optim.items()
              if isinstance(group, dict) and 'optimizer' in group]
    if 'optimizer' in optim:
        groups.append(('optim_wrapper', optim))
    for where, group in groups:
        optimizer = group.get('optimizer')
        if isinstance(optimizer, dict) and 'lr' in optimizer:
            lr = check_number(f'{where}.optimizer.lr', optimizer['lr'])
            # check_number's minimum would let inf through.
            if not lr >= 0 or lr == float('inf'):
                raise StartupCheckError(
                    f'{where}.optimizer.lr must be a finite number >= '
                    f'0, got {optimizer["lr"]!r}')


def check_checkpoint_hook_args(hooks: Iterable) -> None:
    """Extra ``CheckpointHook`` arguments go to ``save_checkpoint``:
    check them now, not at the first save."""
    # What the hook passes itself; an extra key repeating one of these
    # fails as well ("got multiple values").
    passed = {'self', 'out_dir', 'filename', 'file_client_args',
              'save_optimizer', 'save_param_scheduler', 'meta',
              'by_epoch', 'backend_args'}
    accepted = set(inspect.signature(
        Runner.save_checkpoint).parameters) - passed
    known = set(inspect.signature(CheckpointHook.__init__).parameters
                ) - {'self', 'kwargs'}
    for hook in hooks:
        if not isinstance(hook, CheckpointHook):
            continue
        unknown = sorted(set(getattr(hook, 'args', {})) - accepted)
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, known, n=1)
                hints.append(f'{name!r}' + (f' (did you mean '
                                            f'{close[0]!r}?)'
                                            if close else ''))
            raise StartupCheckError(
                f'{type(hook).__name__} got unknown argument(s) '
                f'{", ".join(hints)} (default_hooks.checkpoint); it '
                f'accepts {", ".join(sorted(known | accepted))}')


def check_channels(cfg: Any, model: Any) -> None:
    """Dataset channels must equal the generators' (named both)."""
    loader = cfg.get('train_dataloader')
    dataset = loader.get('dataset') if isinstance(loader, dict) else None
    if not isinstance(dataset, dict):
        return
    for domain in ('a', 'b'):
        want = getattr(model, f'channels_{domain}', None)
        got = dataset.get(f'channels_{domain}')
        if want is not None and got is not None and int(got) != int(want):
            raise StartupCheckError(
                f'train_dataloader.dataset.channels_{domain}={got} but '
                f'the generators take {want}-channel images in domain '
                f'{domain} (model.generator_a2b '
                f'{"in" if domain == "a" else "out"}_channels={want}); '
                'make them equal')


# ---------------------------------------------------------- 3. start-up
def forward_problem(model: Any, domain: str,
                    size: tuple[int, int]) -> Optional[str]:
    """Why the generator and discriminators fail on an image of ``size``
    in ``domain`` (a zero tensor through the real networks), or None."""
    import torch
    channels = getattr(model, f'channels_{domain}', 3)
    direction = 'a2b' if domain == 'a' else 'b2a'
    other = 'b' if domain == 'a' else 'a'
    generator = getattr(model, f'generator_{direction}', None)
    critic_in = getattr(model, f'discriminator_{domain}', None)
    critic_out = getattr(model, f'discriminator_{other}', None)
    if generator is None:
        return None
    device = next(model.parameters()).device
    image = torch.zeros(1, channels, *size, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            fake = generator(image)
            if critic_in is not None:
                critic_in(image)
            if critic_out is not None:
                critic_out(fake)
    except (RuntimeError, ValueError) as err:  # conv/pad/norm size errors
        return str(err).splitlines()[0][:200]
    finally:
        model.train(was_training)
    return None


def check_training_images(loader: Any, model: Any) -> None:
    """With ``preprocess='none'`` images keep their size: explain at
    start-up when they are too small for the networks (``model``
    unwrapped), or of mixed sizes in batches of more than one (naming the
    files)."""
    dataset = getattr(loader, 'dataset', None)
    mode = getattr(getattr(dataset, 'preprocess', None), 'mode', None)
    if mode != 'none' or not isinstance(dataset, UnpairedImageDataset):
        return
    for domain in ('a', 'b'):
        scan = dataset.scan_result(domain)
        if not scan.files:
            continue
        padded = [(padded_size(h, PAD_MULTIPLE),
                   padded_size(w, PAD_MULTIPLE)) for h, w in scan.sizes]
        smallest = min(range(len(padded)), key=lambda i: padded[i])
        problem = forward_problem(model, domain, padded[smallest])
        if problem:
            height, width = scan.sizes[smallest]
            raise StartupCheckError(
                f'preprocess="none": {scan.files[smallest]} is '
                f'{width}x{height} (width x height), too small for the '
                f'networks ({problem}); use larger images or a crop mode')
        if getattr(loader, 'batch_size', 1) > 1 and len(set(padded)) > 1:
            other = next(i for i, size in enumerate(padded)
                         if size != padded[0])
            raise StartupCheckError(
                'preprocess="none" keeps each image\'s size, so a batch '
                f'of {loader.batch_size} needs images of one size, but '
                f'{scan.files[0]} is {scan.sizes[0][1]}x'
                f'{scan.sizes[0][0]} and {scan.files[other]} is '
                f'{scan.sizes[other][1]}x{scan.sizes[other][0]}; use '
                'batch_size=1 or a crop mode')
