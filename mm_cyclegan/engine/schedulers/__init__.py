"""Parameter schedulers."""
from .linear_decay import LinearDecayLR, LinearDecayParamScheduler

__all__ = ['LinearDecayLR', 'LinearDecayParamScheduler']
