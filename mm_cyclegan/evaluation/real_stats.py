"""Real-image Inception features of a folder, cached on disk.

``tools/fid_stats.py`` runs :func:`cache_folder_features` once per test
folder; :class:`~.translation_metric.TranslationMetric` with
``stats_cache_dir`` then skips the network for every real image whose
pixels match a cached one (the key of each entry is the image's content
digest after the same preprocessing, so a stale or foreign cache can only
miss, never give wrong features).
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
from typing import Optional

import numpy as np
import torch

from mm_cyclegan.datasets.image_io import read_image
from mm_cyclegan.datasets.scan import list_image_files
from mm_cyclegan.datasets.transforms import resize

from .fid_kid import feature_statistics
from .inception import InceptionFeatureExtractor
from .translation_metric import image_digest, to_uint8

__all__ = ['cache_folder_features', 'cache_file_name', 'folder_features',
           'load_image']


def load_image(path: str, load_size: Optional[int] = None) -> torch.Tensor:
    """A file as the test dataset yields it (RGB, optionally resized to
    ``load_size`` square, bicubic on float), on the 8-bit grid."""
    image = read_image(path, 3)
    if load_size:
        image = resize(image, load_size, load_size)
    return to_uint8(torch.from_numpy(
        np.ascontiguousarray(image.transpose(2, 0, 1))))


def cache_file_name(folder: str, files: list[str], load_size: Optional[int],
                    extractor: InceptionFeatureExtractor) -> str:
    """``<folder name>-<key>.npz``; the key covers the file list (names,
    sizes, modification times), the resize settings and the weights."""
    digest = hashlib.sha256()
    for path in files:
        stat = os.stat(path)
        digest.update(f'{osp.relpath(path, folder)}|{stat.st_size}|'
                      f'{stat.st_mtime_ns}\n'.encode())
    digest.update(f'{load_size}|{extractor.key}'.encode())
    name = osp.basename(osp.normpath(folder)) or 'images'
    return f'{name}-{digest.hexdigest()[:16]}.npz'


def _image_files(folder: str) -> list[str]:
    files, _ = list_image_files(folder)
    if not files:
        raise ValueError(f'no image files in {folder!r}')
    return files


def _features_of(files: list[str], extractor: InceptionFeatureExtractor,
                 load_size: Optional[int], progress: bool,
                 label: str) -> tuple[np.ndarray, list[str]]:
    """Features (float64) and content digests of ``files``, in order."""
    from tqdm import tqdm
    features, digests = [], []
    with tqdm(total=len(files), unit='img', disable=not progress,
              desc=osp.basename(osp.normpath(label)) or label,
              dynamic_ncols=True) as bar:
        for start in range(0, len(files), extractor.batch_size):
            images = [load_image(f, load_size)
                      for f in files[start:start + extractor.batch_size]]
            digests += [image_digest(img) for img in images]
            if all(img.shape == images[0].shape for img in images):
                features.append(extractor(torch.stack(images).float() / 255))
            else:
                features += [extractor(img[None].float() / 255)
                             for img in images]
            bar.update(len(images))
    return np.concatenate(features), digests


def folder_features(folder: str,
                    extractor: InceptionFeatureExtractor,
                    load_size: Optional[int] = None,
                    progress: bool = False) -> np.ndarray:
    """Inception features ``(N, 2048)`` of every image in ``folder``
    (sorted by path; loaded as :func:`load_image`), with a progress bar
    on stderr when ``progress``."""
    return _features_of(_image_files(folder), extractor, load_size,
                        progress, folder)[0]


def cache_folder_features(folder: str,
                          cache_dir: str,
                          extractor: InceptionFeatureExtractor,
                          load_size: Optional[int] = None,
                          progress: bool = False) -> tuple[str, bool]:
    """Compute (or find) the cache file of ``folder``.

    Returns ``(path, computed)``; ``computed`` is False when an up-to-date
    file was already there. The ``.npz`` holds ``features`` (N, 2048),
    ``digests`` (content key per image), ``files``, ``mu``/``sigma`` (the
    FID statistics) and ``extractor_key`` (weights hash, resize mode,
    input size). ``progress`` shows a bar on stderr while computing.
    """
    files = _image_files(folder)
    os.makedirs(cache_dir, exist_ok=True)
    path = osp.join(cache_dir,
                    cache_file_name(folder, files, load_size, extractor))
    if osp.isfile(path):
        return path, False
    features, digests = _features_of(files, extractor, load_size, progress,
                                     folder)
    if len(files) > 1:
        mu, sigma = feature_statistics(features)
    else:
        mu, sigma = features[0], np.zeros((features.shape[1],) * 2)
    tmp = path + '.tmp.npz'
    np.savez(tmp, features=features.astype(np.float32),
             digests=np.array(digests), files=np.array(files), mu=mu,
             sigma=sigma, extractor_key=np.array(extractor.key),
             load_size=np.array(load_size or 0))
    os.replace(tmp, path)
    return path, True
