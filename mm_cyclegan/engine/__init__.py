"""Training machinery: runner, loop, optimiser constructor, pool, hooks."""
from .checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    DamagedCheckpointError,
    LoadReport,
    NonFiniteCheckpointError,
    UnsafeCheckpointError,
    find_resumable_checkpoint,
    load_model_weights,
    read_checkpoint,
)
from .hooks import (  # noqa: F401
    FiniteLossHook,
    ImagePoolHook,
    RNGStateHook,
    SafeCheckpointHook,
    TranslationVisualizationHook,
)
from .image_pool import ImagePool, ImagePools, make_image_pools
from .loops import EpochsAsItersTrainLoop, RunFinished
from .optim_constructor import CycleGANOptimWrapperConstructor
from .optim_wrapper import MixedPrecisionOptimWrapper
from .preflight import StartupCheckError
from .runner import CycleGANRunner
from .schedulers import LinearDecayLR

__all__ = [
    'CheckpointError', 'CheckpointMismatchError',
    'CycleGANOptimWrapperConstructor', 'DamagedCheckpointError',
    'CycleGANRunner', 'EpochsAsItersTrainLoop', 'FiniteLossHook',
    'ImagePool', 'ImagePoolHook', 'ImagePools', 'LinearDecayLR', 'LoadReport',
    'MixedPrecisionOptimWrapper',
    'NonFiniteCheckpointError', 'RNGStateHook', 'RunFinished',
    'SafeCheckpointHook',
    'StartupCheckError',
    'TranslationVisualizationHook', 'UnsafeCheckpointError',
    'find_resumable_checkpoint', 'load_model_weights', 'make_image_pools',
    'read_checkpoint'
]
