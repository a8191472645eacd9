"""Training machinery: runner, loop, optimiser constructor, pool, hooks."""
from .hooks import (  # noqa: F401
                    ImagePoolHook,
                    RNGStateHook,
                    TranslationVisualizationHook,
)
from .image_pool import ImagePool
from .loops import EpochsAsItersTrainLoop
from .optim_constructor import CycleGANOptimWrapperConstructor
from .optim_wrapper import MixedPrecisionOptimWrapper
from .runner import CycleGANRunner, find_resumable_checkpoint
from .schedulers import LinearDecayLR

__all__ = [
    'CycleGANOptimWrapperConstructor', 'CycleGANRunner',
    'EpochsAsItersTrainLoop', 'ImagePool', 'ImagePoolHook', 'LinearDecayLR',
    'MixedPrecisionOptimWrapper',
    'RNGStateHook', 'TranslationVisualizationHook',
    'find_resumable_checkpoint'
]
