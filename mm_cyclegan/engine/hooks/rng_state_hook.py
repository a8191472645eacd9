"""Carries the global random-number generator states through checkpoints."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from mm_cyclegan.registry import HOOKS

from .rank_state_hook import RankStateHook


@HOOKS.register_module()
class RNGStateHook(RankStateHook):
    """Save and restore Python, NumPy, torch (CPU and CUDA) RNG states.

    MMEngine checkpoints keep the seed but not the generator states, so
    anything drawing from global RNGs after a resume (dropout, the gradient
    penalty's interpolation) would diverge from the uninterrupted run. Each
    rank's states are stored under ``'rng_states'``.
    """

    checkpoint_key = 'rng_states'

    def collect(self, runner) -> Any:
        """This rank's generator states."""
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    def restore(self, runner, state: Any) -> None:
        """Set this rank's generators to the saved states."""
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'].cpu())
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
