"""Training hooks: image pools, RNG states, translation grids, checkpoint
and loss guards, training health."""
from .checkpoint_hook import SafeCheckpointHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .image_pool_hook import ImagePoolHook
from .logger_hook import EarlyLoggerHook
from .progress_hook import EvalProgressHook, add_progress_hook
from .rank_state_hook import RankStateHook
from .rng_state_hook import RNGStateHook
from .training_health_hook import TrainingHealthHook
from .visualization_hook import (
                                 TranslationVisualizationHook,
                                 make_translation_grid,
)

__all__ = ['EarlyLoggerHook', 'EvalProgressHook', 'FiniteLossHook',
           'ImagePoolHook', 'NonFiniteLossError',
           'SafeCheckpointHook', 'RankStateHook', 'RNGStateHook',
           'TrainingHealthHook', 'TranslationVisualizationHook',
           'add_progress_hook', 'make_translation_grid']
