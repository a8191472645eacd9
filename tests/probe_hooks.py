"""A hook that records the state a run starts training from (tests only)."""
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mm_cyclegan.registry import HOOKS


@HOOKS.register_module()
class StartStateProbeHook(Hook):
    """Save weights, pools and RNG state at ``before_train`` (after any
    ``load_from``/``resume``) to ``<work_dir>/start_state.pth``."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        pools = model.image_pools
        torch.save(dict(
            state_dict=model.state_dict(),
            iter=runner.iter,
            pools=[dict(size=p.size, swap_prob=p.swap_prob,
                        images=list(p.images),
                        generator=p.generator.get_state()) for p in pools],
            torch_rng=torch.get_rng_state(),
        ), osp.join(runner.work_dir, 'start_state.pth'))
