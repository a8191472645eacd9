"""The identity weight annealed over a training run (a recipe lever).

The paper keeps ``lambda_identity`` constant. A strong identity term early
keeps colour and content while the generators are still random (the
reference's cure for tinted or wrecked outputs); late in training it holds
the translation back. :class:`IdentityAnneal` moves the weight linearly from
the model's ``identity_weight`` to ``end_weight`` over a span of the run.
"""
from __future__ import annotations

from typing import Any

from mmengine.logging import MessageHub

from mm_cyclegan.utils.validation import check_number

__all__ = ['IdentityAnneal']

_KEYS = ('end_weight', 'begin', 'end')


class IdentityAnneal:
    """Linear identity weight: ``start_weight`` until fraction ``begin`` of
    the run, ``end_weight`` from fraction ``end`` on, a straight line in
    between.

    The run's position is MMEngine's ``MessageHub`` ``iter`` / ``max_iters``
    (set by the Runner's ``RuntimeInfoHook``), so the weight needs no state
    of its own and a resumed run continues on the same line. Resumed with a
    larger ``--max-iters``, the line stretches to the new length.

    Args:
        start_weight: The model's ``identity_weight`` (> 0).
        cfg: ``dict(end_weight=..., begin=0.0, end=1.0)``; ``begin`` and
            ``end`` are fractions of the run, ``0 <= begin < end <= 1``.
    """

    def __init__(self, start_weight: float, cfg: dict) -> None:
        if not isinstance(cfg, dict):
            raise TypeError('identity_anneal must be a dict like '
                            'dict(end_weight=0.05, begin=0.0, end=0.5), got '
                            f'{cfg!r}')
        unknown = sorted(set(cfg) - set(_KEYS))
        if unknown:
            raise ValueError(f'identity_anneal: unknown keys {unknown}; '
                             f'expected {list(_KEYS)}')
        if 'end_weight' not in cfg:
            raise ValueError('identity_anneal needs end_weight (the identity '
                             'weight at the end of the span)')
        if not start_weight > 0:
            raise ValueError('identity_anneal needs identity_weight > 0 (the '
                             f'weight it starts from), got {start_weight}')
        self.start_weight = float(start_weight)
        self.end_weight = check_number('identity_anneal.end_weight',
                                       cfg['end_weight'], minimum=0)
        self.begin = check_number('identity_anneal.begin',
                                  cfg.get('begin', 0.0), minimum=0,
                                  maximum=1)
        self.end = check_number('identity_anneal.end', cfg.get('end', 1.0),
                                minimum=0, maximum=1)
        if not self.begin < self.end:
            raise ValueError('identity_anneal needs begin < end (fractions '
                             f'of the run), got begin={self.begin} and '
                             f'end={self.end}')

    def __repr__(self) -> str:
        return (f'identity weight {self.start_weight:g} -> '
                f'{self.end_weight:g} between {self.begin:.0%} and '
                f'{self.end:.0%} of the run')

    def weight(self, iteration: int, max_iters: int) -> float:
        """The identity weight at 0-based ``iteration`` of ``max_iters``."""
        if max_iters <= 0:
            raise ValueError(f'max_iters must be > 0, got {max_iters}')
        progress = iteration / max_iters
        t = (progress - self.begin) / (self.end - self.begin)
        t = min(max(t, 0.0), 1.0)
        return self.start_weight + t * (self.end_weight - self.start_weight)

    def current(self) -> float:
        """The weight at the current MessageHub iteration."""
        hub = MessageHub.get_current_instance()
        iteration: Any = hub.get_info('iter')
        max_iters: Any = hub.get_info('max_iters')
        if iteration is None or max_iters is None:
            raise RuntimeError(
                'identity_anneal reads the run position from MMEngine\'s '
                'MessageHub (info "iter" and "max_iters", set by the '
                'Runner); outside a Runner set both with '
                'MessageHub.get_current_instance().update_info(...), or '
                'drop identity_anneal')
        return self.weight(int(iteration), int(max_iters))

    def scale(self) -> float:
        """The current weight as a share of ``start_weight`` (the factor
        on identity loss terms built with the starting weight)."""
        return self.current() / self.start_weight
