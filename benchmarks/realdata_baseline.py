"""Reuse MMagic's runs of an earlier real-data benchmark run.

A lever of our recipe (an identity weight, a regulariser, a pool) changes
only our model: MMagic's training is the same run as before if its
settings, data stream and initial weights are. ``--baseline-from`` reads
MMagic's scores from that run's ``realdata.json`` instead of training
MMagic again, which halves the cost of each lever measured; every fact
that decides MMagic's run is checked first, and a mismatch is an error
that names it.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp

import torch
from torch import nn

from benchmarks import realdata_models as models

# The options that decide MMagic's training and its scores.
SAME_OPTIONS = ('dataset', 'iters', 'size', 'lr', 'decay_start',
                'batch_size', 'warmup', 'net_size', 'classifier_seed',
                'classifier_epochs')


class BaselineMismatch(ValueError):
    """The earlier run is not the run MMagic would train here."""


def load(path: str, args: argparse.Namespace) -> dict:
    """MMagic's runs of ``path`` (a ``realdata.json``) for ``args.seeds``,
    with what :func:`check_seed` compares; raises
    :class:`BaselineMismatch` when an option differs or a seed is
    missing."""
    if not osp.isfile(path):
        raise BaselineMismatch(f'--baseline-from {path}: no such file')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        parameters, rows, seeds = (data['parameters'], data['runs'],
                                   data['seeds'])
    except (ValueError, KeyError, TypeError):
        raise BaselineMismatch(f'--baseline-from {path}: not a '
                               'realdata.json (parameters, runs, '
                               'seeds)') from None
    differ = [f'--{k.replace("_", "-")} {parameters.get(k)!r} there, '
              f'{getattr(args, k)!r} here' for k in SAME_OPTIONS
              if parameters.get(k) != getattr(args, k)]
    if differ:
        raise BaselineMismatch(f'--baseline-from {path}: MMagic was '
                               'trained with other settings: ' +
                               '; '.join(differ))
    runs = {r['seed']: {k: v for k, v in r.items()
                        if k not in ('model', 'seed', 'wrecked')}
            for r in rows if r.get('model') == 'mmagic'}
    missing = [s for s in args.seeds if s not in runs]
    if missing:
        raise BaselineMismatch(
            f'--baseline-from {path}: no MMagic run for seed(s) '
            f'{" ".join(map(str, missing))} (it has '
            f'{" ".join(map(str, sorted(runs))) or "none"})')
    return dict(path=path, runs=runs, config=parameters['config'],
                streams={f['seed']: f['stream_sha256'] for f in seeds})


def check_recipe(baseline: dict, recipe: tuple, demo_size: bool) -> tuple:
    """The baseline config's ``(model cfg, pool)``; raises
    :class:`BaselineMismatch` unless MMagic gets the same networks and
    buffer size from it as from ``recipe`` (ours)."""
    config = baseline['config']
    if not osp.isfile(config):
        raise BaselineMismatch(f'--baseline-from {baseline["path"]}: its '
                               f'config {config} is gone')
    theirs = models.recipe(config, demo_size)
    for what, here, there in (
            ('networks', models.mmagic_architecture(recipe[0]),
             models.mmagic_architecture(theirs[0])),
            ('image buffer size', recipe[1][0], theirs[1][0])):
        if here != there:
            raise BaselineMismatch(
                f'--baseline-from {baseline["path"]}: MMagic\'s {what} '
                f'would be {here} here, {there} there')
    return theirs


def same_weights(one: nn.Module, other: nn.Module) -> bool:
    """Whether two models hold equal tensors under equal names."""
    mine, theirs = one.state_dict(), other.state_dict()
    return mine.keys() == theirs.keys() and all(
        mine[k].shape == theirs[k].shape and torch.equal(mine[k], theirs[k])
        for k in mine)


def check_seed(baseline: dict, seed: int, stream_sha: str,
               theirs: nn.Module, baseline_theirs: nn.Module) -> None:
    """Raise :class:`BaselineMismatch` unless seed ``seed`` here records
    the same data stream as the baseline and MMagic's initial weights
    built from our config (``theirs``) equal those built from the
    baseline's config (``baseline_theirs``)."""
    path = baseline['path']
    if baseline['streams'].get(seed) != stream_sha:
        raise BaselineMismatch(
            f'--baseline-from {path}: seed {seed} recorded data stream '
            f'{stream_sha}, the baseline {baseline["streams"].get(seed)} '
            '(other images or data root)')
    if not same_weights(theirs, baseline_theirs):
        raise BaselineMismatch(
            f'--baseline-from {path}: MMagic\'s initial weights for seed '
            f'{seed} differ from the baseline\'s ({baseline["config"]}): '
            'this config changes the initialisation MMagic shares with '
            'ours, so MMagic must be trained again')
