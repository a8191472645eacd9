"""Training hooks: image pools, RNG states, translation grids, health."""
from .image_pool_hook import ImagePoolHook
from .rank_state_hook import RankStateHook
from .rng_state_hook import RNGStateHook
from .training_health_hook import TrainingHealthHook
from .visualization_hook import (
                                 TranslationVisualizationHook,
                                 make_translation_grid,
)

__all__ = ['ImagePoolHook', 'RankStateHook', 'RNGStateHook',
           'TrainingHealthHook', 'TranslationVisualizationHook',
           'make_translation_grid']
