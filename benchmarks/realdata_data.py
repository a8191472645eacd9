"""Real unpaired images for the real-data benchmark, as ``uint8`` tensors.

Both models must see exactly the same pixels, and MMagic's pipeline starts
from 8-bit images, so every image is put on the 8-bit grid once here
(rounded, as a saved PNG would be) and the tensors are kept as ``uint8``.
"""
from __future__ import annotations

import os.path as osp

import torch
from torch.utils.data import DataLoader, default_collate

from mm_cyclegan.evaluation.translation_metric import to_uint8

DATASETS = ('horse2zebra', 'photo2anime', 'summer2winter_yosemite')
# What domain a / b are, for the table.
DOMAIN_NAMES = {
    'horse2zebra': ('horse', 'zebra'),
    'photo2anime': ('photo', 'anime'),
    'summer2winter_yosemite': ('summer', 'winter'),
}


def load_size_for(crop: int) -> int:
    """The reference's 286 -> 256 resize-then-crop ratio at ``crop`` px."""
    return int(crop * 286 / 256 + 0.5)


def check_layout(data_root: str) -> None:
    """Raise ``ValueError`` naming the first missing CycleGAN folder."""
    for folder in ('trainA', 'trainB', 'testA', 'testB'):
        path = osp.join(data_root, folder)
        if not osp.isdir(path):
            raise ValueError(f'data_root={data_root!r} has no {folder}/ '
                             f'({path} is missing)')


def quantize(images: torch.Tensor) -> torch.Tensor:
    """A float ``[-1, 1]`` batch ``(N, C, H, W)`` on the 8-bit grid."""
    return torch.stack([to_uint8(image) for image in images])


def record_train_stream(data_root: str, size: int, iters: int, seed: int,
                        batch_size: int = 1,
                        workers: int = 0) -> list[tuple]:
    """``iters`` training batches ``(a, b)`` as ``uint8``, as a run makes.

    ``UnpairedImageDataset`` (resize to :func:`load_size_for` ``(size)``,
    random ``size`` crop, random flip, B drawn at random) with the
    ``UnpairedEpochSampler`` seeded by ``seed`` and ``set_epoch`` per pass.
    Samples do not depend on ``workers`` (decoding processes): each draws
    from its own seeded generators.
    """
    from mm_cyclegan.datasets import UnpairedEpochSampler, UnpairedImageDataset

    dataset = UnpairedImageDataset(
        data_root, split='train', load_size=load_size_for(size),
        crop_size=size, seed=seed)
    sampler = UnpairedEpochSampler(dataset, shuffle=True, seed=seed)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                        collate_fn=default_collate, num_workers=workers,
                        drop_last=True)
    batches: list[tuple] = []
    epoch = 0
    while len(batches) < iters:
        sampler.set_epoch(epoch)
        for batch in loader:
            batches.append((quantize(batch['img_a']),
                            quantize(batch['img_b'])))
            if len(batches) == iters:
                break
        epoch += 1
    return batches


def load_split(data_root: str, split: str, size: int,
               load_size: int | None = None) -> dict[str, torch.Tensor]:
    """Every image of ``split`` (A and B) whole, resized, as ``uint8``.

    Images are resized to ``load_size`` (default ``size``) squares without
    cropping or flipping; returns ``dict(a=(N_a, 3, S, S), b=...)`` in file
    order.
    """
    from mm_cyclegan.datasets import UnpairedImageDataset

    side = size if load_size is None else load_size
    dataset = UnpairedImageDataset(
        data_root, split=split, load_size=side, crop_size=side, flip=False,
        serial_b=True, test_mode=True)
    images: dict[str, list] = {'a': [], 'b': []}
    for sample in dataset:
        for domain in 'ab':
            if sample[f'valid_{domain}']:
                images[domain].append(to_uint8(sample[f'img_{domain}']))
    return {k: torch.stack(v) for k, v in images.items()}
