"""Scores of one model's test translations (no ground truth needed).

* success: share of translations the domain classifier puts in the target
  domain;
* content: SSIM of the luminance of input and translation. Luminance, not
  edge maps: a translation is meant to change hue (summer -> winter, a
  photo's palette -> anime colours) and texture (stripes, flat shading),
  and edge maps at 64 px are sparse and dominated by exactly that texture,
  so they would punish the intended change; luminance keeps the layout
  and shading that must survive and is blind to hue;
* cycle L1: mean ``|G_ba(G_ab(x)) - x|`` in [0, 1] units;
* realism: KID between translations and the real target test images in
  the classifier's standardised multi-block feature space (see
  :mod:`benchmarks.realdata_classifier`); :func:`realism_check` shows it
  ranks blurred, noised and colour-shifted real images as worse;
* pattern: the mean ``checkerboard_db`` of the translations (a periodic
  2/4 px pattern, see :mod:`benchmarks.checkerboard`). The realism KID is
  nearly blind to such a pattern at a low amplitude (a 4 px cross-hatch of
  +-10 levels on real anime frames moved it by about 5 %, while it lifts
  the pattern dB from about 0 to over 2), so it gets its own column;
  :func:`realism_check` shows both.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks.checkerboard import checkerboard_db
from benchmarks.quality_data import as_float
from benchmarks.realdata_classifier import (
    DomainClassifier,
    features,
    predict_b,
)
from mm_cyclegan.evaluation import kernel_inception_distance, ssim

KID_SUBSETS = 100


def luminance(images: Tensor) -> Tensor:
    """Rec. 601 luma of ``uint8`` RGB images, ``(N, 1, H, W)`` in [0, 1]."""
    x = images.double() / 255.0
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]


def content_ssim(inputs: Tensor, outputs: Tensor) -> Tensor:
    """Per-image SSIM of the luminance of ``uint8`` inputs and outputs."""
    return ssim(luminance(outputs), luminance(inputs))


def cycle_l1(inputs: Tensor, reconstructions: Tensor) -> Tensor:
    """Per-image mean absolute error of ``uint8`` images, [0, 1] units."""
    diff = inputs.double() - reconstructions.double()
    return diff.abs().flatten(1).mean(1) / 255.0


def success(classifier: DomainClassifier, outputs: Tensor,
            target: str) -> float:
    """Share of ``outputs`` classified as domain ``target`` ('a'/'b')."""
    p_b = predict_b(classifier, outputs)
    hits = p_b >= 0.5 if target == 'b' else p_b < 0.5
    return float(hits.double().mean())


def realism_kid(classifier: DomainClassifier, outputs: Tensor,
                real: Tensor, seed: int = 0) -> float:
    """KID of ``outputs`` vs ``real`` (both ``uint8``) in the
    classifier's feature space (lower is better)."""
    kid = kernel_inception_distance(
        features(classifier, outputs).numpy(),
        features(classifier, real).numpy(), KID_SUBSETS,
        subset_size=min(len(outputs), len(real)), seed=seed)
    return kid['mean']


def pattern_db(images: Tensor) -> float:
    """Mean ``checkerboard_db`` of ``uint8`` images (lower is better;
    natural images score about 0 dB or below)."""
    return float(sum(checkerboard_db(image.double().numpy())
                     for image in images) / len(images))


def _blur(x: Tensor, sigma: float = 1.5) -> Tensor:
    radius = int(3 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    channels = x.shape[1]
    pad = F.pad(x, (radius, radius, radius, radius), mode='reflect')
    out = F.conv2d(pad, k.view(1, 1, 1, -1).repeat(channels, 1, 1, 1),
                   groups=channels)
    return F.conv2d(out, k.view(1, 1, -1, 1).repeat(channels, 1, 1, 1),
                    groups=channels)


def degrade(images: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Blurred (Gaussian sigma 1.5 px), noised (Gaussian, sigma 20/255)
    and colour-shifted (R +30, B -30) copies of ``uint8`` images."""
    x = images.float()
    gen = torch.Generator().manual_seed(seed)
    shift = torch.tensor([30.0, 0.0, -30.0]).view(1, 3, 1, 1)
    out = dict(blurred=_blur(x),
               noised=x + 20.0 * torch.randn(x.shape, generator=gen),
               colour_shifted=x + shift)
    return {k: v.round().clamp(0, 255).to(torch.uint8)
            for k, v in out.items()}


def cross_hatch(images: Tensor, amplitude: float = 10.0,
                period: int = 4) -> Tensor:
    """``uint8`` images with an added ``cos(x) * cos(y)`` pattern of
    ``period`` px and +-``amplitude`` levels (the diamond texture an
    undertrained generator paints over flat areas)."""
    h, w = images.shape[-2:]
    phase = 2 * math.pi / period
    rows = torch.cos(phase * torch.arange(h, dtype=torch.float32))
    cols = torch.cos(phase * torch.arange(w, dtype=torch.float32))
    pattern = amplitude * rows[:, None] * cols[None, :]
    return (images.float() + pattern).round().clamp(0, 255).to(torch.uint8)


def realism_check(classifier: DomainClassifier, held_out: Tensor,
                  real_test: Tensor) -> dict[str, dict[str, float]]:
    """``{'kid': ..., 'pattern': ...}``: the realism KID vs
    ``real_test`` of real images the classifier never trained on
    (``held_out``) and of degraded and cross-hatched copies of them, and
    the pattern dB of the real and cross-hatched ones."""
    copies = dict(real=held_out, **degrade(held_out),
                  cross_hatched=cross_hatch(held_out))
    return dict(
        kid={name: realism_kid(classifier, images, real_test)
             for name, images in copies.items()},
        pattern={name: pattern_db(copies[name])
                 for name in ('real', 'cross_hatched')})


def score_direction(classifier: DomainClassifier, inputs: Tensor,
                    outputs: Tensor, reconstructions: Tensor,
                    real_target: Tensor, target: str) -> dict[str, float]:
    """Every score of one direction (``uint8`` tensors; ``target`` is the
    output domain, 'a' or 'b')."""
    return dict(
        success=success(classifier, outputs, target),
        ssim=float(content_ssim(inputs, outputs).mean()),
        cycle_l1=float(cycle_l1(inputs, reconstructions).mean()),
        kid=realism_kid(classifier, outputs, real_target),
        pattern=pattern_db(outputs))


def inception_scores(weights: Optional[str], images: dict,
                     outputs: dict) -> dict:
    """FID/KID per direction from ``TranslationMetric`` when the Inception
    weights file is found (``{}`` otherwise).

    ``images``: ``uint8`` test images ``dict(a=..., b=...)``; ``outputs``:
    ``dict(a2b=(fake_b, rec_a), b2a=(fake_a, rec_b))``.
    """
    from mm_cyclegan.evaluation import (
        InceptionWeightsMissing,
        TranslationMetric,
        find_inception_weights,
    )
    try:
        path = find_inception_weights(weights)
    except InceptionWeightsMissing:
        return {}
    metric = TranslationMetric(inception_weights=path)
    num_a, num_b = len(images['a']), len(images['b'])
    samples = []
    for i in range(max(num_a, num_b)):
        ia, ib = i % num_a, i % num_b
        samples.append(dict(
            real_a=as_float(images['a'][ia]),
            real_b=as_float(images['b'][ib]),
            fake_b=as_float(outputs['a2b'][0][ia]),
            rec_a=as_float(outputs['a2b'][1][ia]),
            fake_a=as_float(outputs['b2a'][0][ib]),
            rec_b=as_float(outputs['b2a'][1][ib]),
            valid_a=i < num_a, valid_b=i < num_b,
            path_a=f'a{ia}', path_b=f'b{ib}'))
    metric.process({}, samples)
    found = metric.compute_metrics(metric.results)
    return {f'inception_{k.replace("/", "_")}': found[k]
            for d in ('a2b', 'b2a') for k in (f'{d}/fid', f'{d}/kid')
            if k in found}
