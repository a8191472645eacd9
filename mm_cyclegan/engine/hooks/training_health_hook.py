"""Early warnings for the CycleGAN failures users keep reporting.

Checks, every ``interval`` iterations:

* **discriminator wins** (per discriminator): its loss stayed below
  ``d_loss_threshold`` for ``patience`` intervals while the loss of the
  generator it judges kept rising;
* **constant output**: a generator's outputs on fixed inputs have almost
  no spatial variation (all-black / all-grey images);
* **mode collapse**: a generator maps different inputs to nearly the same
  image (output spread tiny compared with the input spread);
* **colour inversion**: the outputs are strongly anti-correlated with their
  inputs (dark becomes bright), the reference FAQ's early-training failure.

The fixed inputs are the first ``num_samples`` training samples, translated
with the generators in eval mode (no gradient, a few images: cheap). Each
warning goes to the log (naming symptom, direction and the usual remedy,
repeated at most every ``cooldown`` checks) and every statistic and symptom
flag goes to the runner's visualizer as a ``health/...`` scalar (TensorBoard
with ``TensorboardVisBackend``). Training goes on unless the symptom is in
``stop_on``. Non-finite losses are the job of ``FiniteLossHook``.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook
from torch.utils.data import default_collate

from mm_cyclegan.registry import HOOKS
from mm_cyclegan.utils import loss_names as names
from mm_cyclegan.utils.validation import check_choice, check_int

from .fixed_batch import translate_fixed_batch

__all__ = ['SYMPTOMS', 'TrainingHealthHook', 'output_statistics']

REMEDIES = {
    'discriminator_wins': (
        'the discriminator separates real from fake perfectly, so the '
        'generator gets no useful gradient. Remedy: lower the '
        'discriminators\' learning rate (e.g. half the generators\'), keep '
        'the image pool (ImagePoolHook, pool_size=50), use LSGAN, or add a '
        'gradient penalty / use a smaller discriminator.'),
    'constant_output': (
        'the generator outputs (almost) the same flat image. Remedy: check '
        'the data is in [-1, 1], lower the learning rate, and restart from '
        'a checkpoint before the symptom.'),
    'mode_collapse': (
        'the generator maps different inputs to nearly the same image. '
        'Remedy: keep the cycle loss weight (10) and the image pool, lower '
        'the learning rate, restart from a checkpoint before the symptom.'),
    'color_inversion': (
        'the outputs are the colour-inverted inputs (a known early-training '
        'failure). Remedy: enable the identity loss (identity_weight=0.5) '
        'and use a smaller init gain (normal init, std 0.02).'),
}
SYMPTOMS = tuple(REMEDIES)
# (generator direction, discriminator domain, its loss, the generator loss)
_ADVERSARIES = tuple(
    (direction, domain, names.discriminator_loss(domain),
     names.adversarial_loss(direction))
    for direction, domain in (('a2b', 'b'), ('b2a', 'a')))


def _pairwise_mean_distance(x: torch.Tensor) -> float:
    flat = x.flatten(1).double()
    n = flat.shape[0]
    if n < 2:
        return float('nan')
    distance = torch.cdist(flat, flat) / flat.shape[1]**0.5
    return float(distance.sum() / (n * (n - 1)))


def output_statistics(inputs: torch.Tensor, outputs: torch.Tensor) -> dict:
    """Cheap health statistics of a generator on a batch.

    Returns ``spatial_std`` (mean per-image, per-channel standard deviation
    over pixels of the outputs, [-1, 1] units), ``diversity`` (mean
    pairwise RMS distance between outputs divided by that between inputs)
    and ``input_correlation`` (mean Pearson correlation of each output with
    its input over pixels and channels; ``nan`` when channel counts
    differ).
    """
    outputs, inputs = outputs.detach().double(), inputs.detach().double()
    stats = dict(spatial_std=float(outputs.flatten(2).std(dim=2).mean()))
    spread_in = _pairwise_mean_distance(inputs)
    spread_out = _pairwise_mean_distance(outputs)
    stats['diversity'] = (spread_out / spread_in
                          if spread_in > 1e-8 else float('nan'))
    if inputs.shape == outputs.shape:
        x = inputs.flatten(1) - inputs.flatten(1).mean(1, keepdim=True)
        y = outputs.flatten(1) - outputs.flatten(1).mean(1, keepdim=True)
        denominator = (x.norm(dim=1) * y.norm(dim=1)).clamp_min(1e-12)
        stats['input_correlation'] = float(((x * y).sum(1) /
                                            denominator).mean())
    else:
        stats['input_correlation'] = float('nan')
    return stats


@HOOKS.register_module()
class TrainingHealthHook(Hook):
    """Warn early about a winning discriminator, collapse and inversion.

    Args:
        interval: Iterations between checks (losses are averaged over it).
        num_samples: Fixed training samples the generators are checked on
            (at least 2, for the collapse check).
        d_loss_threshold: A discriminator loss below this counts as winning.
        patience: Intervals the discriminator must keep winning while the
            generator loss rises.
        constant_threshold: ``spatial_std`` below this is a constant output.
        collapse_threshold: ``diversity`` below this is mode collapse.
        inversion_threshold: ``input_correlation`` below this is colour
            inversion.
        cooldown: Checks before the same warning is logged again.
        stop_on: Symptoms (of :data:`SYMPTOMS`) that stop the training.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_samples: int = 4,
                 d_loss_threshold: float = 0.05,
                 patience: int = 3,
                 constant_threshold: float = 0.02,
                 collapse_threshold: float = 0.05,
                 inversion_threshold: float = -0.5,
                 cooldown: int = 10,
                 stop_on: Sequence[str] = ()) -> None:
        for name, value, low in (('interval', interval, 1),
                                 ('num_samples', num_samples, 2),
                                 ('patience', patience, 1),
                                 ('cooldown', cooldown, 1)):
            check_int(name, value, minimum=low)
        if isinstance(stop_on, str):
            raise ValueError(f'stop_on must be a list of {SYMPTOMS}, got '
                             f'{stop_on!r}')
        for symptom in stop_on:
            check_choice('stop_on symptom', symptom, SYMPTOMS)
        self.interval = interval
        self.num_samples = num_samples
        self.d_loss_threshold = d_loss_threshold
        self.patience = patience
        self.constant_threshold = constant_threshold
        self.collapse_threshold = collapse_threshold
        self.inversion_threshold = inversion_threshold
        self.cooldown = cooldown
        self.stop_on = tuple(stop_on)
        self._batch: Optional[dict] = None
        self._sums: dict[str, float] = {}
        self._count = 0
        self._history: dict[str, deque] = {
            name: deque(maxlen=patience + 1)
                         for _, _, d, g in _ADVERSARIES for name in (d, g)}
        self._checks = 0
        self._last_warned: dict[tuple, int] = {}
        #: Every symptom seen: ``(iteration, symptom, direction)``.
        self.events: list[tuple[int, str, str]] = []

    # --------------------------------------------------------------- state
    def before_train(self, runner) -> None:
        """Pick the fixed training samples once."""
        dataset = runner.train_dataloader.dataset
        count = min(self.num_samples, len(dataset))
        self._batch = default_collate([dataset[i] for i in range(count)])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Accumulate the losses; check on schedule."""
        for name in self._history:
            if outputs and name in outputs:
                self._sums[name] = self._sums.get(name, 0.0) + float(
                    torch.as_tensor(outputs[name]).detach().float())
        self._count += 1
        if self.every_n_train_iters(runner, self.interval):
            self.check(runner, runner.iter + 1)

    # -------------------------------------------------------------- checks
    def check(self, runner, step: int) -> list[tuple[str, str]]:
        """Run every check now; returns the ``(symptom, direction)`` found."""
        self._checks += 1
        scalars: dict[str, float] = {}
        found: list[tuple[str, str, str]] = []
        for name, total in self._sums.items():
            self._history[name].append(total / max(self._count, 1))
        self._sums, self._count = {}, 0
        for direction, domain, d_key, g_key in _ADVERSARIES:
            d_hist, g_hist = self._history[d_key], self._history[g_key]
            if d_hist:
                scalars[f'health/{d_key}'] = d_hist[-1]
            detail = self.discriminator_wins(list(d_hist), list(g_hist))
            if detail:
                found.append(('discriminator_wins', direction,
                              f'discriminator_{domain}: {detail}'))
        if self._batch is not None:
            for direction, stats in self._generator_stats(runner).items():
                for key, value in stats.items():
                    scalars[f'health/{key}_{direction}'] = value
                found.extend((symptom, direction, detail)
                             for symptom, detail in self.fake_symptoms(
                                 stats))
        for symptom in SYMPTOMS:
            for direction in ('a2b', 'b2a'):
                scalars[f'health/{symptom}_{direction}'] = float(any(
                    s == symptom and d == direction for s, d, _ in found))
        runner.visualizer.add_scalars(scalars, step=step)
        for symptom, direction, detail in found:
            self.events.append((step, symptom, direction))
            last = self._last_warned.get((symptom, direction))
            if last is None or self._checks - last >= self.cooldown:
                self._last_warned[(symptom, direction)] = self._checks
                runner.logger.log(
                    logging.WARNING,
                    f'TrainingHealthHook: {symptom.replace("_", " ")} '
                    f'({direction}) at iteration {step}: {detail}; '
                    f'{REMEDIES[symptom]}')
            if symptom in self.stop_on:
                runner.logger.log(
                    logging.ERROR, f'TrainingHealthHook: stopping training '
                    f'({symptom} is in stop_on).')
                runner.train_loop.stop_training = True
        return [(s, d) for s, d, _ in found]

    def discriminator_wins(self, d_losses: list, g_losses: list) -> str:
        """Why the discriminator is winning, or ``''`` (pure function)."""
        p = self.patience
        if len(d_losses) < p or len(g_losses) < p + 1:
            return ''
        recent_d, recent_g = d_losses[-p:], g_losses[-(p + 1):]
        if max(recent_d) >= self.d_loss_threshold:
            return ''
        if not all(b > a for a, b in zip(recent_g, recent_g[1:])):
            return ''
        return (f'its loss stayed below {self.d_loss_threshold:g} for {p} '
                f'intervals (last {recent_d[-1]:.4f}) while the generator '
                f'loss rose {recent_g[0]:.3f} -> {recent_g[-1]:.3f}')

    def fake_symptoms(self, stats: dict) -> list[tuple[str, str]]:
        """Symptoms in :func:`output_statistics` (pure function)."""
        found = []
        if stats['spatial_std'] < self.constant_threshold:
            found.append(('constant_output', 'outputs have spatial std '
                          f'{stats["spatial_std"]:.4f} '
                          f'(< {self.constant_threshold:g})'))
        if stats['diversity'] < self.collapse_threshold:
            found.append(('mode_collapse', 'outputs differ '
                          f'{stats["diversity"]:.3f}x as much as their '
                          f'inputs (< {self.collapse_threshold:g})'))
        if stats['input_correlation'] < self.inversion_threshold:
            found.append(('color_inversion', 'outputs correlate '
                          f'{stats["input_correlation"]:.2f} with their '
                          f'inputs (< {self.inversion_threshold:g})'))
        return found

    def _generator_stats(self, runner) -> dict:
        out = translate_fixed_batch(runner, self._batch)
        return dict(a2b=output_statistics(out['real_a'], out['fake_b']),
                    b2a=output_statistics(out['real_b'], out['fake_a']))
