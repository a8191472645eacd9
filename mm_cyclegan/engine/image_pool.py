"""The image history pool of Shrivastava et al. (2017), as used by CycleGAN."""
from __future__ import annotations

from typing import Any

import torch


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
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f'pool size must be an int, got {size!r}')
        if size < 0:
            raise ValueError(f'pool size must be >= 0, got {size}')
        if not 0.0 <= float(swap_prob) <= 1.0:
            raise ValueError(
                f'swap_prob must be in [0, 1], got {swap_prob}')
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

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state written by :meth:`state_dict`."""
        if state['size'] != self.size:
            raise ValueError(
                f'pool state has size {state["size"]}, but this pool has '
                f'size {self.size}')
        if len(state['images']) > self.size:
            raise ValueError(
                f'pool state holds {len(state["images"])} images, more than '
                f'its size {self.size}')
        self.swap_prob = float(state['swap_prob'])
        # Kept on the CPU; query() moves a returned image to the batch device.
        self.images = [img.clone() for img in state['images']]
        self.generator.set_state(state['generator'])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'swap_prob={self.swap_prob}, stored={len(self.images)})')
