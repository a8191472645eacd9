"""Fréchet distance (FID) and kernel distance (KID) of feature sets.

Pure NumPy/SciPy on ``(N, D)`` feature arrays (Inception pool3 in practice).

* :func:`frechet_distance` takes Gaussian statistics and follows
  pytorch-fid's rule exactly: ``sqrtm(s1 @ s2)``; if that is not finite,
  retry with ``eps * I`` added to both covariances; keep the real part when
  the imaginary diagonal is below 1e-3, else raise.
* :func:`fid_from_features` gives the same number from the features
  themselves. With fewer images than dimensions (every translation test set:
  horse2zebra has 120/140 for 2048 dimensions) the covariances are
  rank-deficient, which is what the eps fallback patches, and a 2048 x 2048
  ``sqrtm`` costs seconds. There it uses the identity
  ``tr sqrt(S1 S2) = ||Xc1 Xc2^T||_* / sqrt((n1-1)(n2-1))`` (the nuclear norm
  of the small n1 x n2 cross-product; ``Xc`` are the centred features), which
  is exact, needs no eps, and agrees with pytorch-fid's value to ~1e-4.
* :func:`kernel_inception_distance`: the unbiased MMD^2 with the cubic
  polynomial kernel ``(x.y / d + 1)^3`` over random subsets
  (torch-fidelity / clean-fid / Binkowski et al. 2018), mean and std.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy import linalg

from mm_cyclegan.utils.validation import check_int

__all__ = [
    'feature_statistics', 'fid_from_features', 'frechet_distance',
    'kernel_inception_distance', 'polynomial_mmd'
]


def _features(name: str, features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f'{name} must be a (N, D) array, got shape '
                         f'{features.shape}')
    return features


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray,
                                                      np.ndarray]:
    """Mean and covariance (``np.cov(rowvar=False)``) of ``(N, D)``."""
    features = _features('features', features)
    if features.shape[0] < 2:
        raise ValueError('a covariance needs at least 2 samples, got '
                         f'{features.shape[0]}')
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray,
                     sigma1: np.ndarray,
                     mu2: np.ndarray,
                     sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Fréchet distance of two Gaussians, pytorch-fid's computation."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            f'statistics differ in shape: mean {mu1.shape} vs {mu2.shape}, '
            f'covariance {sigma1.shape} vs {sigma2.shape}')
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            worst = np.max(np.abs(covmean.imag))
            raise ValueError(f'Imaginary component {worst} in sqrtm')
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) -
                 2 * np.trace(covmean))


def fid_from_features(features1: np.ndarray,
                      features2: np.ndarray,
                      eps: float = 1e-6) -> float:
    """FID of two feature sets (see the module docstring for the method)."""
    x = _features('features1', features1)
    y = _features('features2', features2)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f'feature dimensions differ: {x.shape[1]} vs '
                         f'{y.shape[1]}')
    n1, n2, dim = x.shape[0], y.shape[0], x.shape[1]
    if min(n1, n2) < 2:
        raise ValueError(f'FID needs at least 2 samples per set, got {n1} '
                         f'and {n2}')
    if max(n1, n2) > dim:
        return frechet_distance(*feature_statistics(x),
                                *feature_statistics(y), eps=eps)
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mu1, y - mu2
    trace1 = float((xc * xc).sum()) / (n1 - 1)
    trace2 = float((yc * yc).sum()) / (n2 - 1)
    nuclear = float(np.linalg.svd(xc @ yc.T, compute_uv=False).sum())
    diff = mu1 - mu2
    return float(diff.dot(diff) + trace1 + trace2 -
                 2 * nuclear / math.sqrt((n1 - 1) * (n2 - 1)))


def polynomial_mmd(x: np.ndarray, y: np.ndarray, degree: int = 3,
                   gamma: Optional[float] = None, coef0: float = 1.0
                   ) -> float:
    """Unbiased MMD^2 of two equally sized samples, polynomial kernel."""
    m = x.shape[0]
    if m < 2 or y.shape[0] != m:
        raise ValueError(f'need two samples of equal size >= 2, got {m} and '
                         f'{y.shape[0]}')
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (x @ x.T * gamma + coef0)**degree
    k_yy = (y @ y.T * gamma + coef0)**degree
    k_xy = (x @ y.T * gamma + coef0)**degree
    off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() -
                    np.trace(k_yy))
    return float(off_diagonal / (m * (m - 1)) - 2 * k_xy.sum() / m**2)


def kernel_inception_distance(features1: np.ndarray,
                              features2: np.ndarray,
                              num_subsets: int = 100,
                              subset_size: int = 1000,
                              seed: int = 2020) -> dict:
    """KID: mean and std of :func:`polynomial_mmd` over random subsets.

    Each subset draws ``m = min(subset_size, n1, n2)`` samples without
    replacement from each set (torch-fidelity's defaults: 100 subsets of
    1000, seed 2020). Returns ``dict(mean, std, subset_size=m,
    num_subsets)``; with ``m`` below ``subset_size`` the estimate is noisier
    than published KIDs, which the caller should state.
    """
    x = _features('features1', features1)
    y = _features('features2', features2)
    num_subsets = check_int('num_subsets', num_subsets, minimum=1)
    subset_size = check_int('subset_size', subset_size, minimum=2)
    m = min(subset_size, x.shape[0], y.shape[0])
    if m < 2:
        raise ValueError(f'KID needs at least 2 samples per set, got '
                         f'{x.shape[0]} and {y.shape[0]}')
    rng = np.random.default_rng(seed)
    values = np.array([
        polynomial_mmd(x[rng.choice(x.shape[0], m, replace=False)],
                       y[rng.choice(y.shape[0], m, replace=False)])
        for _ in range(num_subsets)
    ])
    return dict(mean=float(values.mean()), std=float(values.std()),
                subset_size=m, num_subsets=num_subsets)
