"""Creates the CycleGAN image pools and carries them through checkpoints."""
from __future__ import annotations

from typing import Any

from mmengine.dist import get_dist_info
from mmengine.model import is_model_wrapper

from mm_cyclegan.engine.image_pool import ImagePool
from mm_cyclegan.registry import HOOKS

from .rank_state_hook import RankStateHook


@HOOKS.register_module()
class ImagePoolHook(RankStateHook):
    """Attach one :class:`ImagePool` per discriminator to the model.

    ``before_run`` creates ``pool_fake_a`` (fakes shown to
    ``discriminator_a``) and ``pool_fake_b`` and sets them as attributes of
    the (unwrapped) model. Each rank keeps its own pools, seeded from the run
    seed, the rank and the domain. Checkpoints store every rank's pools,
    with their generator states, under ``'image_pools'``; see
    :class:`RankStateHook` for resume semantics.

    Args:
        pool_size: Images per pool (paper: 50). ``0`` disables pooling.
        swap_prob: Probability of returning a stored image (paper: 0.5).
        seed: Base seed; ``None`` uses the runner's seed.
    """

    checkpoint_key = 'image_pools'

    def __init__(self, pool_size: int = 50, swap_prob: float = 0.5,
                 seed: int | None = None) -> None:
        super().__init__()
        # Validate now, so a bad config fails before the runner starts.
        ImagePool(pool_size, swap_prob)
        self.pool_size = pool_size
        self.swap_prob = swap_prob
        self.seed = seed

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_run(self, runner) -> None:
        """Create the pools (on every rank) and attach them to the model."""
        rank, _ = get_dist_info()
        base = self.seed if self.seed is not None else (runner.seed or 0)
        model = self._model(runner)
        for offset, name in enumerate(('pool_fake_a', 'pool_fake_b')):
            setattr(model, name, ImagePool(
                self.pool_size, self.swap_prob,
                seed=int(base) * 1000 + rank * 2 + offset))

    def collect(self, runner) -> Any:
        """Both pools of this rank."""
        model = self._model(runner)
        return dict(pool_fake_a=model.pool_fake_a.state_dict(),
                    pool_fake_b=model.pool_fake_b.state_dict())

    def restore(self, runner, state: Any) -> None:
        """Load both pools of this rank."""
        model = self._model(runner)
        model.pool_fake_a.load_state_dict(state['pool_fake_a'])
        model.pool_fake_b.load_state_dict(state['pool_fake_b'])
