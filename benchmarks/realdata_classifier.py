"""A small domain classifier (A vs B) and the feature space it defines.

Trained on the train split only, with a fixed seed: 80 % of each domain's
train images (random crops and flips); the other 20 % are held out for the
realism check in :mod:`benchmarks.realdata_metrics`. It gives

* ``predict``: P(domain b) per image (translation success);
* ``features``: the spatial mean and std of every block's activations,
  standardised with the training images' statistics. The classifier knows
  the domains, and its early blocks see colour, sharpness and noise, so a
  distance in this space (KID) penalises outputs that only fool the last
  layer.

The trained network is cached per dataset and image size, keyed by the
training file list, so each benchmark run trains it once.
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
import sys
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.quality_data import as_float

WIDTHS = (16, 32, 64, 128)
HOLDOUT = 0.2


class DomainClassifier(nn.Module):
    """Four conv blocks (3x3 conv, BN, ReLU, 2x2 max-pool), a linear head.

    Args:
        widths: Channels of the blocks.
    """

    def __init__(self, widths: tuple = WIDTHS) -> None:
        super().__init__()
        blocks, channels = [], 3
        for width in widths:
            blocks.append(nn.Sequential(
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width), nn.ReLU(inplace=True)))
            channels = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(channels, 2)
        # Feature standardisation, set by fit_feature_scale (not cached:
        # cheap to recompute, and free to change with the feature set).
        self.feat_mean: Optional[Tensor] = None
        self.feat_std: Optional[Tensor] = None

    def _run(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        pooled = []
        for k, block in enumerate(self.blocks):
            x = block(x)
            # Mean and spatial std per channel: the std is what blur
            # (less) and noise (more) change most.
            pooled += [x.mean(dim=(2, 3)), x.flatten(2).std(dim=2)]
            if k < len(self.blocks) - 1:
                x = F.max_pool2d(x, 2)
        return self.head(pooled[-2]), pooled

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, 2)`` of ``[-1, 1]`` RGB images."""
        return self._run(x)[0]

    def raw_features(self, x: Tensor) -> Tensor:
        """Every block's spatial mean and std, ``(N, 2 * sum(widths))``."""
        return torch.cat(self._run(x)[1], dim=1)


def split_holdout(count: int, seed: int) -> tuple[Tensor, Tensor]:
    """Indices (train, holdout) of ``count`` images, holdout ~20 %."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(
        seed))
    held = max(1, int(round(count * HOLDOUT))) if count > 1 else 0
    return order[held:], order[:held]


def _augment(images: Tensor, size: int, gen: torch.Generator) -> Tensor:
    """Random ``size`` crops and horizontal flips of a uint8 batch."""
    n, _, height, width = images.shape
    out = []
    for k in range(n):
        top = int(torch.randint(height - size + 1, (1,), generator=gen))
        left = int(torch.randint(width - size + 1, (1,), generator=gen))
        crop = images[k, :, top:top + size, left:left + size]
        if bool(torch.rand(1, generator=gen) < 0.5):
            crop = crop.flip(-1)
        out.append(crop)
    return as_float(torch.stack(out))


def train_classifier(train_a: Tensor, train_b: Tensor, size: int,
                     seed: int = 0, epochs: int = 30,
                     log: Callable[[str], None] = print
                     ) -> DomainClassifier:
    """Fit a :class:`DomainClassifier` on ``uint8`` images (larger than
    ``size``: they are randomly cropped to it). Classes are weighted by
    inverse frequency, so unequal domain sizes do not bias it."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = DomainClassifier()
    images = torch.cat([train_a, train_b])
    labels = torch.cat([torch.zeros(len(train_a), dtype=torch.long),
                        torch.ones(len(train_b), dtype=torch.long)])
    weight = torch.tensor([len(images) / (2.0 * len(train_a)),
                           len(images) / (2.0 * len(train_b))])
    optim = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, epochs)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=gen)
        total = 0.0
        for start in range(0, len(images), 32):
            idx = order[start:start + 32]
            logits = model(_augment(images[idx], size, gen))
            loss = F.cross_entropy(logits, labels[idx], weight=weight)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        if (epoch + 1) % 5 == 0 or epoch + 1 == epochs:
            log(f'[classifier] epoch {epoch + 1}/{epochs} loss '
                f'{total / len(images):.3f}')
    model.eval()
    return model


@torch.no_grad()
def fit_feature_scale(model: DomainClassifier, images: Tensor) -> None:
    """Standardise :func:`features` with the statistics of ``uint8``
    images (the classifier's training images, resized to the test size)."""
    feats = torch.cat([model.raw_features(as_float(chunk))
                       for chunk in images.split(64)])
    model.feat_mean = feats.mean(0)
    model.feat_std = feats.std(0).clamp_min(1e-6)


@torch.no_grad()
def predict_b(model: DomainClassifier, images: Tensor) -> Tensor:
    """P(domain b) of ``uint8`` images, ``(N,)``."""
    return torch.cat([F.softmax(model(as_float(chunk)), dim=1)[:, 1]
                      for chunk in images.split(64)])


@torch.no_grad()
def features(model: DomainClassifier, images: Tensor) -> Tensor:
    """Standardised features of ``uint8`` images, ``(N, D)`` float64."""
    if model.feat_mean is None or model.feat_std is None:
        raise RuntimeError('call fit_feature_scale before features')
    raw = torch.cat([model.raw_features(as_float(chunk))
                     for chunk in images.split(64)])
    return ((raw - model.feat_mean) / model.feat_std).double()


def accuracy(model: DomainClassifier, images_a: Tensor,
             images_b: Tensor) -> float:
    """Share of A called A and B called B (both domains weigh equally)."""
    right_a = float((predict_b(model, images_a) < 0.5).float().mean())
    right_b = float((predict_b(model, images_b) >= 0.5).float().mean())
    return (right_a + right_b) / 2


def data_key(data_root: str, size: int, seed: int, epochs: int) -> str:
    """Hash of the training file list (names, sizes) and the settings."""
    digest = hashlib.sha256(f'{size}:{seed}:{epochs}:{WIDTHS}'.encode())
    for folder in ('trainA', 'trainB'):
        path = osp.join(data_root, folder)
        for name in sorted(os.listdir(path)):
            digest.update(f'{folder}/{name}:'.encode())
            digest.update(str(osp.getsize(osp.join(path, name))).encode())
    return digest.hexdigest()[:16]


def cached_classifier(cache: str, key: str,
                      build: Callable[[], DomainClassifier]
                      ) -> DomainClassifier:
    """The classifier stored at ``cache`` if its key matches, else
    ``build()`` (then stored)."""
    if osp.isfile(cache):
        stored = torch.load(cache, map_location='cpu', weights_only=True)
        model = DomainClassifier()
        try:
            if stored.get('key') == key:
                model.load_state_dict(stored['state_dict'])
                model.eval()
                print(f'[classifier] cached: {cache}', file=sys.stderr)
                return model
        except RuntimeError:  # another network layout: train anew
            pass
    model = build()
    os.makedirs(osp.dirname(osp.abspath(cache)), exist_ok=True)
    torch.save(dict(key=key, state_dict=model.state_dict()), cache)
    return model


def get_classifier(data_root: str, train: dict, size: int, cache: str,
                   seed: int = 0, epochs: int = 30,
                   log: Optional[Callable[[str], None]] = None
                   ) -> DomainClassifier:
    """Train (or load) the classifier on the non-held-out train images.

    ``train`` holds ``uint8`` train images at the load size
    (``dict(a=..., b=...)``) in file order; the features are standardised
    with the same images' centre crops.
    """
    report = log or (lambda m: print(m, file=sys.stderr, flush=True))
    keep_a, _ = split_holdout(len(train['a']), seed)
    keep_b, _ = split_holdout(len(train['b']), seed + 1)
    key = data_key(data_root, size, seed, epochs)
    model = cached_classifier(cache, key, lambda: train_classifier(
        train['a'][keep_a], train['b'][keep_b], size, seed, epochs,
        report))
    images = torch.cat([train['a'][keep_a], train['b'][keep_b]])
    top = (images.shape[-1] - size) // 2
    fit_feature_scale(model,
                      images[:, :, top:top + size, top:top + size])
    return model
