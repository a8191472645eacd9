"""Parameter schedulers."""
from .linear_decay import (
    LinearDecayLR,
    LinearDecayParamScheduler,
    decay_problem,
)

__all__ = ['LinearDecayLR', 'LinearDecayParamScheduler', 'decay_problem']
