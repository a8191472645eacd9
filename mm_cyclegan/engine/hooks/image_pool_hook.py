"""Creates the CycleGAN image pools and carries them through checkpoints."""
from __future__ import annotations

from typing import Any, Optional

from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mm_cyclegan.engine.image_pool import ImagePool, make_image_pools
from mm_cyclegan.registry import HOOKS

from .rank_state_hook import RankStateHook


def _model(runner) -> Any:
    model = runner.model
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class ImagePoolHook(RankStateHook):
    """Give the model one :class:`ImagePool` per discriminator.

    ``before_run`` makes the pools with
    :func:`~mm_cyclegan.engine.make_image_pools` (seeded from the run seed,
    the rank and the domain) and hands them to the (unwrapped) model with
    ``set_image_pools``. Checkpoints store every rank's pools, with their
    generator states, under ``'image_pools'``; they are restored on resume
    only (see :class:`RankStateHook`). A resumed pool keeps the configured
    ``pool_size`` and ``swap_prob``; what differs is logged.

    Args:
        pool_size: Images per pool (paper: 50). ``0`` disables pooling.
        swap_prob: Probability of returning a stored image (paper: 0.5).
        seed: Base seed; ``None`` uses the runner's seed.
    """

    checkpoint_key = 'image_pools'

    def __init__(self, pool_size: int = 50, swap_prob: float = 0.5,
                 seed: Optional[int] = None) -> None:
        super().__init__()
        # Validate now, so a bad config fails before the runner starts.
        ImagePool(pool_size, swap_prob)
        self.pool_size = pool_size
        self.swap_prob = swap_prob
        self.seed = seed

    def before_run(self, runner) -> None:
        """Create this rank's pools and give them to the model."""
        model = _model(runner)
        if not hasattr(model, 'set_image_pools'):
            raise TypeError(
                'ImagePoolHook needs a model with set_image_pools() (such '
                f'as CycleGAN), got {type(model).__name__}')
        rank, _ = get_dist_info()
        seed = self.seed if self.seed is not None else (runner.seed or 0)
        model.set_image_pools(make_image_pools(
            self.pool_size, self.swap_prob, seed=int(seed), rank=rank))

    def collect(self, runner) -> Any:
        """Both pools of this rank."""
        pools = _model(runner).image_pools
        return dict(pool_fake_a=pools.a.state_dict(),
                    pool_fake_b=pools.b.state_dict())

    def restore(self, runner, state: Any) -> None:
        """Load both pools of this rank, as far as they fit the config."""
        pools = _model(runner).image_pools
        for domain, pool in zip('ab', pools):
            notes = pool.load_state_dict(state[f'pool_fake_{domain}'])
            if notes:
                print_log(f'ImagePoolHook: pool of domain {domain}: '
                          + '; '.join(notes) + '.', logger='current',
                          level=30)
