"""The data of ``benchmarks/quality.py``: the training stream, recorded
once as ``uint8`` and replayed to both models, and the paired test split.
"""
from __future__ import annotations

import argparse
import hashlib

import torch
from torch.utils.data import DataLoader, default_collate

import mm_cyclegan  # noqa: F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb


def record_train_stream(args: argparse.Namespace) -> list[tuple]:
    """The training batches, recorded once and replayed to both models.

    Built as a training run builds them (``UnpairedEpochSampler`` seeded
    with ``--seed``, ``set_epoch`` per pass, ``default_collate``) and kept
    as ``uint8`` (exact: the dataset makes ``uint8 / 127.5 - 1``).
    """
    from mm_cyclegan.datasets import UnpairedEpochSampler
    from mm_cyclegan.datasets.procedural import ProceduralLandscapeDataset

    dataset = ProceduralLandscapeDataset(
        split='train', num_samples=args.train_samples, size=args.size,
        seed=args.seed)
    sampler = UnpairedEpochSampler(dataset, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size,
                        sampler=sampler, collate_fn=default_collate,
                        num_workers=0, drop_last=True)
    batches: list[tuple] = []
    epoch = 0
    while len(batches) < args.iters:
        sampler.set_epoch(epoch)
        for batch in loader:
            batches.append((mmb.to_uint8(batch['img_a']),
                            mmb.to_uint8(batch['img_b'])))
            if len(batches) == args.iters:
                break
        epoch += 1
    return batches


def as_float(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` back to our [-1, 1] float convention (the dataset's op)."""
    return images.float().div(127.5).sub(1.0)


def ours_batch(batch: tuple) -> dict:
    """A recorded batch as our ``train_step`` takes it."""
    return dict(img_a=as_float(batch[0]), img_b=as_float(batch[1]))


def mmagic_batch(batch: tuple) -> dict:
    """A recorded batch as MMagic's dataloader would yield it."""
    return mmb.to_mmagic_batch(as_float(batch[0]), as_float(batch[1]))


def fingerprint(batches: list[tuple]) -> str:
    """Short SHA-256 of the recorded stream (to compare runs)."""
    digest = hashlib.sha256()
    for a, b in batches:
        digest.update(a.numpy().tobytes())
        digest.update(b.numpy().tobytes())
    return digest.hexdigest()[:16]


def load_test_batches(args: argparse.Namespace) -> list[dict]:
    """The paired test split, collated, in order."""
    from mm_cyclegan.datasets import UnpairedEpochSampler
    from mm_cyclegan.datasets.procedural import ProceduralLandscapeDataset

    dataset = ProceduralLandscapeDataset(
        split='test', num_samples=args.test_samples, size=args.size,
        seed=args.seed)
    sampler = UnpairedEpochSampler(dataset, shuffle=False, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.test_batch_size,
                        sampler=sampler, collate_fn=default_collate,
                        num_workers=0)
    return list(loader)
