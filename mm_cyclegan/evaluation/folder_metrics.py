"""FID and KID between two folders of images (``tools/fid.py``).

The same maths as :class:`~.translation_metric.TranslationMetric`
(:func:`~.fid_kid.fid_from_features`,
:func:`~.fid_kid.kernel_inception_distance`) on the same Inception
features, with the same weights policy: a local file only, never a
download. With ``resize='bilinear'`` (the default) the FID equals
pytorch-fid's (``python -m pytorch_fid A B``) on the same files and weights
file.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional

from .fid_kid import fid_from_features, kernel_inception_distance
from .inception import InceptionFeatureExtractor
from .real_stats import folder_features

__all__ = ['folder_fid_kid', 'format_folder_result']


def folder_fid_kid(folder_a: str,
                   folder_b: str,
                   inception_weights: Optional[str] = None,
                   batch_size: int = 50,
                   device: str = 'cpu',
                   resize: str = 'bilinear',
                   load_size: Optional[int] = None,
                   kid_subsets: int = 100,
                   kid_subset_size: int = 1000,
                   progress: bool = False) -> dict:
    """FID and KID of the images in ``folder_a`` against ``folder_b``.

    Images are read as 8-bit RGB (``load_size`` resizes them first, as
    the test dataset does); each folder needs at least 2 images. Returns
    ``fid``, ``kid``, ``kid_std``, ``kid_subset_size``, ``kid_subsets``,
    ``num_a``, ``num_b``, ``weights``, ``weights_sha256``, ``resize``.
    Raises :class:`~.inception.InceptionWeightsMissing` when there is no
    weights file.
    """
    for name, folder in (('folder_a', folder_a), ('folder_b', folder_b)):
        if not osp.isdir(folder):
            raise ValueError(f'{name}={folder!r} is not a folder')
    extractor = InceptionFeatureExtractor(inception_weights, resize,
                                          batch_size=batch_size,
                                          device=device)
    features_a = folder_features(folder_a, extractor, load_size, progress)
    features_b = folder_features(folder_b, extractor, load_size, progress)
    for folder, features in ((folder_a, features_a), (folder_b, features_b)):
        if features.shape[0] < 2:
            raise ValueError(f'FID/KID need at least 2 images per folder; '
                             f'{folder} has {features.shape[0]}')
    kid = kernel_inception_distance(features_a, features_b, kid_subsets,
                                    kid_subset_size)
    return dict(
        fid=fid_from_features(features_a, features_b),
        kid=kid['mean'], kid_std=kid['std'],
        kid_subset_size=kid['subset_size'], kid_subsets=kid['num_subsets'],
        num_a=int(features_a.shape[0]), num_b=int(features_b.shape[0]),
        weights=extractor.weights, weights_sha256=extractor.weights_sha256,
        resize=resize)


def format_folder_result(result: dict, folder_a: str, folder_b: str) -> str:
    """The few lines ``tools/fid.py`` prints."""
    return '\n'.join([
        f'FID: {result["fid"]:.4f}',
        f'KID: {result["kid"]:.6f} ± {result["kid_std"]:.6f} '
        f'({result["kid_subsets"]} subsets of {result["kid_subset_size"]})',
        f'{folder_a}: {result["num_a"]} images; {folder_b}: '
        f'{result["num_b"]} images',
        f'Inception {osp.basename(result["weights"])} (sha256 '
        f'{result["weights_sha256"][:12]}), resize {result["resize"]} to '
        '299',
    ])
