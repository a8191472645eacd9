"""Weights into a model: the one strict loader and its report."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

import torch

from .errors import FORMAT_KEY, CheckpointMismatchError
from .reader import read_checkpoint


@dataclass
class LoadReport:
    """What :func:`load_model_weights` loaded and left out."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every key of model and checkpoint matched."""
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, first: int = 5,
                 labels: tuple = ('missing in checkpoint', 'not in model',
                                  'shape mismatch')) -> str:
        """One line per kind of problem, the first ``first`` keys each;
        ``labels`` name the missing, unexpected and mismatched kinds."""
        lines = []
        for label, keys in zip(labels, (self.missing, self.unexpected,
                                        self.mismatched)):
            if keys:
                more = f' (+{len(keys) - first} more)' \
                    if len(keys) > first else ''
                lines.append(f'  {label} ({len(keys)}): '
                             f'{", ".join(keys[:first])}{more}')
        return '\n'.join(lines)


_NOT_WEIGHTS = (FORMAT_KEY,)


def check_state_dict_tensors(state: Mapping, source: str) -> None:
    """Every entry of a state dict must be a tensor: the one rule for
    training (``load_from``), testing and translation. Raises
    :class:`CheckpointMismatchError` naming the first other entry."""
    for key, value in state.items():
        if key in _NOT_WEIGHTS:
            continue
        if not isinstance(value, torch.Tensor):
            raise CheckpointMismatchError(
                f'{source}: state_dict entry {key!r} is not a tensor '
                f'({type(value).__name__}); refusing to load it')


def _state_dict_of(checkpoint: dict, source: str) -> dict:
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointMismatchError(
            f'{source}: state_dict is a {type(state).__name__}, not a dict')
    check_state_dict_tensors(state, source)
    return strip_module_prefix(
        {k: v for k, v in state.items() if k not in _NOT_WEIGHTS})


def strip_module_prefix(state: Mapping) -> dict:
    """``state`` with a leading ``module.`` (a DataParallel/DDP wrapper's
    prefix) removed from every key."""
    return {re.sub(r'^module\.', '', str(key)): value
            for key, value in state.items()}


def compare_state_dicts(own: Mapping, state: Mapping) -> LoadReport:
    """Compare a model's state dict (``own``) with a file's (``state``)
    key by key: which load, which are missing, unexpected or of another
    shape."""
    report = LoadReport()
    for key, value in own.items():
        if key not in state:
            report.missing.append(key)
        elif tuple(state[key].shape) != tuple(value.shape):
            report.mismatched.append(
                f'{key} {tuple(state[key].shape)} vs model '
                f'{tuple(value.shape)}')
        else:
            report.loaded.append(key)
    report.unexpected = [k for k in state if k not in own]
    return report


def load_model_weights(model: torch.nn.Module,
                       checkpoint: Union[str, dict],
                       strict: bool = True,
                       config: Optional[str] = None,
                       source: Optional[str] = None) -> LoadReport:
    """Load a checkpoint's weights into ``model``; strict by default.

    Args:
        model: The (unwrapped) model, e.g. a ``CycleGAN`` with its four
            networks.
        checkpoint: A path (read tensors-only, :func:`read_checkpoint`) or
            an already read checkpoint dict (with ``state_dict`` or itself a
            state dict).
        strict: ``True``: any missing, unexpected or shape-mismatched key
            raises :class:`CheckpointMismatchError` listing the first few,
            and nothing is loaded. ``False`` (a deliberate partial load):
            the matching keys are loaded, the rest reported; still an error
            when nothing matches.
        config: Config file named in errors.
        source: Name of the checkpoint in errors (default: the path).

    Returns:
        A :class:`LoadReport`.
    """
    if isinstance(checkpoint, str):
        source = source or checkpoint
        checkpoint = read_checkpoint(checkpoint, purpose='weights')
    source = source or 'checkpoint'
    state = _state_dict_of(checkpoint, source)
    own = model.state_dict()
    report = compare_state_dicts(own, state)
    where = f'checkpoint {source}' + (f' and config {config}'
                                      if config else '')
    if not report.loaded and own:
        raise CheckpointMismatchError(
            f'None of the weights in {where} fit the model:\n'
            f'{report.describe()}')
    if strict and not report.complete:
        raise CheckpointMismatchError(
            f'The weights in {where} do not match the model:\n'
            f'{report.describe()}\nIs it a checkpoint of this '
            'architecture? For a deliberate partial load (e.g. fine-tuning '
            'with a new discriminator) pass --partial (config key '
            'load_partial=True).')
    from mmengine.runner.checkpoint import load_state_dict

    # MMEngine's loader, not nn.Module.load_state_dict: it descends through
    # DDP wrappers, whose '.module.' the checkpoint keys never hold (torch's
    # would silently skip every wrapped network; mismatches are reported
    # above, so its own message is silenced).
    load_state_dict(model, {k: state[k] for k in report.loaded},
                    strict=False, logger='silent')
    return report


def non_finite_tensors(state: dict, prefix: str = '') -> list[str]:
    """Names of the floating-point tensors in ``state`` holding NaN/inf."""
    bad = []
    for key, value in state.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            bad += non_finite_tensors(value, name + '.')
        elif (isinstance(value, torch.Tensor) and value.is_floating_point()
              and not bool(torch.isfinite(value).all())):
            bad.append(name)
    return bad
