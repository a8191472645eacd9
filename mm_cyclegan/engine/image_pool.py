"""The image history pool of Shrivastava et al. (2017), as used by CycleGAN."""
from __future__ import annotations

from typing import Any, NamedTuple

import torch

from mm_cyclegan.utils.validation import check_int, check_number


class ImagePool:
    """A buffer of previously generated images for the discriminator.

    Until the pool holds ``size`` images, every incoming image is stored and
    returned unchanged. Afterwards each incoming image, independently, is
    swapped with probability ``swap_prob``: a uniformly chosen stored image
    is returned and the incoming one takes its place; otherwise the incoming
    image is returned and the pool is unchanged. ``size == 0`` is a
    pass-through.

    All randomness comes from the pool's own seeded :class:`torch.Generator`,
    whose state is part of :meth:`state_dict`, so a resumed run draws exactly
    what the uninterrupted run would have drawn.

    Args:
        size: Capacity in images (the paper uses 50). ``0`` disables the pool.
        swap_prob: Probability of returning a stored image once full.
        seed: Seed of the pool's generator.
    """

    def __init__(self, size: int = 50, swap_prob: float = 0.5,
                 seed: int = 0) -> None:
        size = check_int('pool size', size, minimum=0)
        swap_prob = check_number('swap_prob', swap_prob, minimum=0.0,
                                 maximum=1.0)
        self.size = size
        self.swap_prob = float(swap_prob)
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator()
        self.generator.manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch of the same shape drawn through the pool.

        ``images`` is expected to be detached (the pool stores copies and the
        discriminator step must not backpropagate into the generators).
        """
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
                continue
            draw = torch.rand((), generator=self.generator).item()
            if draw < self.swap_prob:
                slot = int(torch.randint(
                    0, self.size, (), generator=self.generator).item())
                stored = self.images[slot]
                if stored.shape != image.shape:
                    # Variable-size preprocessing: a stored image of another
                    # shape cannot join this batch, so keep the incoming one.
                    out.append(image)
                    continue
                self.images[slot] = image.clone()
                out.append(stored.to(image.device))
            else:
                out.append(image)
        return torch.stack(out, dim=0)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: images and generator."""
        return dict(
            size=self.size,
            swap_prob=self.swap_prob,
            images=[img.detach().cpu().clone() for img in self.images],
            generator=self.generator.get_state(),
        )

    def load_state_dict(self, state: dict[str, Any]) -> list[str]:
        """Restore a state written by :meth:`state_dict`, as far as it fits.

        The pool keeps its own ``size`` and ``swap_prob`` (the current
        config wins over the saved run's): of a larger saved pool only the
        first ``size`` images are kept; a smaller one is restored whole and
        fills up as training goes on. The generator state is always
        restored. Returns one sentence per difference (empty when the state
        fitted exactly), for the caller to log.
        """
        notes = []
        images = list(state['images'])
        if state['size'] != self.size:
            notes.append(f'saved pool size {state["size"]} differs from the '
                         f'configured {self.size}; keeping {self.size}')
        if len(images) > self.size:
            notes.append(f'restored {self.size} of the {len(images)} saved '
                         'images')
            images = images[:self.size]
        if float(state['swap_prob']) != self.swap_prob:
            notes.append(f'saved swap_prob {float(state["swap_prob"]):g} '
                         f'differs from the configured {self.swap_prob:g}; '
                         f'keeping {self.swap_prob:g}')
        # Kept on the CPU; query() moves a returned image to the batch device.
        self.images = [img.detach().cpu().clone() for img in images]
        self.generator.set_state(state['generator'])
        return notes

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'swap_prob={self.swap_prob}, stored={len(self.images)})')


class ImagePools(NamedTuple):
    """The two pools of a CycleGAN, named by the domain of their fakes.

    ``a`` holds generated domain-a images (``G_b2a``'s output) shown to
    ``discriminator_a``; ``b`` those shown to ``discriminator_b``.
    """

    a: ImagePool
    b: ImagePool


def make_image_pools(size: int = 50, swap_prob: float = 0.5, seed: int = 0,
                     rank: int = 0) -> ImagePools:
    """Create the seeded pair of pools of one rank.

    Every user (:class:`~mm_cyclegan.engine.ImagePoolHook`, benchmarks,
    tests) goes through this function, so the pools of a run are the same
    whoever makes them. The pool of domain ``a`` is seeded with
    ``seed * 1000 + 2 * rank`` and that of ``b`` with one more: each rank and
    domain draws from its own generator.
    """
    base = check_int('seed', seed, minimum=0) * 1000 + \
        2 * check_int('rank', rank, minimum=0)
    return ImagePools(a=ImagePool(size, swap_prob, seed=base),
                      b=ImagePool(size, swap_prob, seed=base + 1))
