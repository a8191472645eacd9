"""Unpaired translation quality: FID/KID per direction, cycle error, stats.

Real photos come without a translated ground truth, so each direction is
judged by how close the *set* of its outputs is to the *set* of real images
of the target domain (FID, KID on Inception features), next to the identity
baseline (the inputs themselves against the same target set: a generator
that changes nothing scores exactly that). Cheap statistics that need no
Inception network are computed too and are what is left when its weights
are missing (``missing_weights='fallback'``): the cycle-reconstruction
error, how much each generator changes its input, and the gap between the
colour statistics of the outputs and of the target domain.
"""
from __future__ import annotations

import hashlib
import logging
import os.path as osp
from collections.abc import Sequence
from glob import glob
from typing import Any, Optional

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mm_cyclegan.registry import METRICS
from mm_cyclegan.utils.validation import check_choice, check_int

from .fid_kid import fid_from_features, kernel_inception_distance
from .inception import InceptionWeightsMissing, get_feature_extractor
from .report import format_translation_table
from .samples import sample_field, sample_flag

__all__ = ['TranslationMetric', 'image_digest', 'to_uint8', 'warn_once']

_MISSING_MODES = ('error', 'fallback')
# Per direction: (input domain, target domain, input key, output key,
# reconstruction key).
_DIRECTIONS = {
    'a2b': ('a', 'b', 'real_a', 'fake_b', 'rec_a'),
    'b2a': ('b', 'a', 'real_b', 'fake_a', 'rec_b'),
}

_WARNED: set = set()


def warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time in this process only.

    The validation and the test metric of a run (and ``tools/train.py``'s
    own check) would otherwise repeat the same missing-weights warning.
    """
    if message in _WARNED:
        return
    _WARNED.add(message)
    print_log(message, logger='current', level=logging.WARNING)


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """A ``[-1, 1]`` (C, H, W) image on the 8-bit grid, as a saved PNG."""
    image = image.detach().float().cpu().clamp(-1.0, 1.0)
    return ((image + 1.0) * 127.5).round().to(torch.uint8)


def image_digest(image: torch.Tensor) -> str:
    """Content hash of a uint8 image (the key of cached real features)."""
    array = image.contiguous().numpy()
    digest = hashlib.sha1(str(array.shape).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _moments(image: torch.Tensor) -> np.ndarray:
    """Per-channel mean and mean square of a uint8 image, in [0, 1]."""
    x = image.double().flatten(1) / 255.0
    return torch.cat([x.mean(1), (x * x).mean(1)]).numpy()


def _color_gap(moments1: list, moments2: list) -> float:
    """Distance of the per-channel mean and std of two image sets."""
    m1, m2 = np.mean(moments1, axis=0), np.mean(moments2, axis=0)
    if m1.shape != m2.shape:
        return float('nan')
    c = m1.shape[0] // 2
    mean1, mean2 = m1[:c], m2[:c]
    std1 = np.sqrt(np.maximum(m1[c:] - mean1**2, 0))
    std2 = np.sqrt(np.maximum(m2[c:] - mean2**2, 0))
    return float(np.sqrt(((mean1 - mean2)**2 + (std1 - std2)**2).sum()))


@METRICS.register_module()
class TranslationMetric(BaseMetric):
    """FID and KID per direction plus cycle error and translation stats.

    Args:
        inception_weights: Path of ``pt_inception-2015-12-05-6726825d.pth``;
            ``None`` searches ``$MM_CYCLEGAN_INCEPTION`` and the torch hub
            cache (see :mod:`mm_cyclegan.evaluation.inception`).
        missing_weights: ``'error'`` raises at construction (start-up) when
            the weights file is missing; ``'fallback'`` warns once and
            reports only the statistics that need no Inception network.
        resize: ``'bilinear'`` (pytorch-fid / MMagic TransFID, comparable
            with published tables) or ``'clean'`` (clean-fid's resize).
        input_size: Inception input side; 299 is the standard, smaller
            values (>= 75) are only for quick tests.
        kid_subsets: Number of KID subsets (100 as torch-fidelity).
        kid_subset_size: KID subset size; ``min(this, n_fake, n_real)`` is
            used and reported.
        max_samples: Use at most this many images per domain (per process);
            ``None`` uses all of them.
        stats_cache_dir: Folder of real-image features written by
            ``tools/fid_stats.py``; real images whose pixels match a cached
            entry are not run through the network again.
        batch_size: Images per Inception forward pass.
        device: Device of the Inception network.
        collect_device: Where results are gathered in distributed runs.
        prefix: Prefix of the metric names (none by default: ``''``).

    ``process`` takes the model's test outputs: one mapping per sample with
    ``real_a``, ``real_b``, ``fake_a``, ``fake_b`` and (for the cycle
    error) ``rec_a``, ``rec_b`` as CHW tensors in ``[-1, 1]``, ``valid_a``,
    ``valid_b`` and ``path_a``, ``path_b``. Each image counts once: samples
    whose ``valid_*`` flag is false (a domain shorter than the epoch) are
    skipped, and repeated paths are dropped. Outputs are rounded to 8 bits
    first, as if saved to PNG and scored from files.

    Keys, for ``d`` in ``a2b`` (``fake_b`` vs real b) and ``b2a``:
    ``d/fid``, ``d/fid_identity`` (the inputs vs the same real set),
    ``d/kid``, ``d/kid_std``, ``d/kid_identity``, ``d/kid_subset_size``,
    ``d/num_fake``, ``d/num_real``, ``d/cycle_l1`` (mean absolute
    reconstruction error in [0, 1] units), ``d/change_l1`` (output vs
    input), ``d/color_gap`` and ``d/color_gap_identity`` (distance of the
    per-channel mean/std of the outputs, resp. inputs, from the target
    domain's). The first key is the one to select checkpoints by (lower is
    better): ``fid_mean`` (mean FID of both directions), or without the
    Inception weights ``cycle_l1_mean``; ``kid_mean`` follows.
    """

    # '' (not None): the names carry their direction already ('a2b/fid')
    # and checkpoints are selected by them; MMEngine warns ("The prefix is
    # not set") only for None and adds a prefix only when non-empty.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 inception_weights: Optional[str] = None,
                 missing_weights: str = 'error',
                 resize: str = 'bilinear',
                 input_size: int = 299,
                 kid_subsets: int = 100,
                 kid_subset_size: int = 1000,
                 max_samples: Optional[int] = None,
                 stats_cache_dir: Optional[str] = None,
                 batch_size: int = 16,
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        check_choice('missing_weights', missing_weights, _MISSING_MODES)
        if max_samples is not None:
            check_int('max_samples', max_samples, minimum=2)
        check_int('kid_subsets', kid_subsets, minimum=1)
        check_int('kid_subset_size', kid_subset_size, minimum=2)
        self.kid_subsets = int(kid_subsets)
        self.kid_subset_size = int(kid_subset_size)
        self.max_samples = max_samples
        self.extractor: Any = None  # None: fallback (no weights)
        try:
            self.extractor = get_feature_extractor(
                inception_weights, resize, input_size, batch_size, device)
        except InceptionWeightsMissing as error:
            if missing_weights == 'error':
                raise
            warn_once(f'{error}\n  Evaluating without FID/KID: reporting '
                      'the cycle-reconstruction error and translation '
                      'statistics only (missing_weights="fallback").')
        self._real_features: dict[str, np.ndarray] = {}
        if stats_cache_dir and self.extractor is not None:
            self._load_cache(stats_cache_dir)
        self._counts = {'a': 0, 'b': 0}

    # ---------------------------------------------------------------- cache
    def _load_cache(self, folder: str) -> None:
        """Real features from ``tools/fid_stats.py`` files that match."""
        loaded = 0
        for path in sorted(glob(osp.join(folder, '*.npz'))):
            with np.load(path, allow_pickle=False) as data:
                if str(data['extractor_key']) != self.extractor.key:
                    continue
                for digest, feature in zip(data['digests'],
                                           data['features']):
                    self._real_features[str(digest)] = feature
                    loaded += 1
        print_log(f'TranslationMetric: {loaded} cached real-image features '
                  f'from {folder}', logger='current')

    def _features(self, images: list[torch.Tensor]) -> list[np.ndarray]:
        """Inception features of uint8 images (stacked when sizes match)."""
        if not images:
            return []
        if all(img.shape == images[0].shape for img in images):
            batch = torch.stack(images).float() / 255.0
            return list(self.extractor(batch))
        return [self.extractor(img[None].float() / 255.0)[0]
                for img in images]

    def _real_feature_list(self, images: list[torch.Tensor]) -> list:
        digests = [image_digest(img) for img in images]
        todo = [i for i, d in enumerate(digests)
                if d not in self._real_features]
        for i, feature in zip(todo, self._features([images[i]
                                                    for i in todo])):
            self._real_features[digests[i]] = feature
        return [self._real_features[d] for d in digests]

    # ------------------------------------------------------------- process
    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Collect features and statistics of every valid image."""
        entries, owners = [], []
        for index, sample in enumerate(data_samples):
            for _, (source, _target, real_key, fake_key, rec_key) in \
                    _DIRECTIONS.items():
                if not sample_flag(sample_field(sample, f'valid_{source}')):
                    continue
                if (self.max_samples is not None
                        and self._counts[source] >= self.max_samples):
                    continue
                real, fake = sample_field(sample, real_key), sample_field(
                    sample, fake_key)
                if real is None or fake is None:
                    raise KeyError(f'test output has no {real_key!r} or '
                                   f'{fake_key!r}; the model must output '
                                   'real_a, real_b, fake_a and fake_b')
                self._counts[source] += 1
                real8, fake8 = to_uint8(real), to_uint8(fake)
                rec = sample_field(sample, rec_key)
                path = sample_field(sample, f'path_{source}')
                entry = dict(
                    domain=source,
                    key=str(path) if path is not None else image_digest(
                        real8),
                    real=real8, fake=fake8,
                    real_moments=_moments(real8),
                    fake_moments=_moments(fake8),
                    change_l1=float((fake8.double() - real8.double()).abs()
                                    .mean() / 255.0),
                    cycle_l1=(float((rec.detach().cpu().double() -
                                     real.detach().cpu().double()).abs()
                                    .mean() / 2.0)
                              if rec is not None else float('nan')))
                entries.append(entry)
                owners.append(index)
        if self.extractor is not None:
            fakes = self._features([e['fake'] for e in entries])
            reals = self._real_feature_list([e['real'] for e in entries])
            for entry, fake, real in zip(entries, fakes, reals):
                entry['fake_feature'] = fake.astype(np.float32)
                entry['real_feature'] = real.astype(np.float32)
        # One result per sample (MMEngine cuts the gathered results to the
        # dataset length, which drops the samples a sampler padded).
        per_sample: list[list] = [[] for _ in data_samples]
        for entry, index in zip(entries, owners):
            # Images are not needed any more; keep results small for the
            # cross-rank gather.
            del entry['real'], entry['fake']
            per_sample[index].append(entry)
        self.results.extend(per_sample)

    # ------------------------------------------------------------- compute
    def _direction(self, name: str, by_domain: dict) -> dict:
        source, target = _DIRECTIONS[name][:2]
        inputs, targets = by_domain[source], by_domain[target]
        out = {
            f'{name}/num_fake': len(inputs),
            f'{name}/num_real': len(targets),
            f'{name}/cycle_l1': float(np.mean([e['cycle_l1']
                                               for e in inputs])),
            f'{name}/change_l1': float(np.mean([e['change_l1']
                                                for e in inputs])),
            f'{name}/color_gap': _color_gap(
                [e['fake_moments'] for e in inputs],
                [e['real_moments'] for e in targets]),
            f'{name}/color_gap_identity': _color_gap(
                [e['real_moments'] for e in inputs],
                [e['real_moments'] for e in targets]),
        }
        if self.extractor is None:
            return out
        fake = np.stack([e['fake_feature'] for e in inputs]).astype(
            np.float64)
        identity = np.stack([e['real_feature'] for e in inputs]).astype(
            np.float64)
        real = np.stack([e['real_feature'] for e in targets]).astype(
            np.float64)
        kid = kernel_inception_distance(fake, real, self.kid_subsets,
                                        self.kid_subset_size)
        kid_identity = kernel_inception_distance(identity, real,
                                                 self.kid_subsets,
                                                 self.kid_subset_size)
        out.update({
            f'{name}/fid': fid_from_features(fake, real),
            f'{name}/fid_identity': fid_from_features(identity, real),
            f'{name}/kid': kid['mean'],
            f'{name}/kid_std': kid['std'],
            f'{name}/kid_identity': kid_identity['mean'],
            f'{name}/kid_subset_size': kid['subset_size'],
        })
        return out

    def compute_metrics(self, results: list) -> dict:
        """Per-direction metrics over the de-duplicated images; logs a
        table."""
        self._counts = {'a': 0, 'b': 0}
        by_domain: dict[str, list] = {'a': [], 'b': []}
        seen = set()
        for entry in (e for sample in results for e in sample):
            key = (entry['domain'], entry['key'])
            if key in seen:
                continue
            seen.add(key)
            by_domain[entry['domain']].append(entry)
        if min(len(v) for v in by_domain.values()) < 2:
            print_log(
                'TranslationMetric needs at least 2 valid images per domain, '
                f'got {len(by_domain["a"])} (a) and {len(by_domain["b"])} '
                '(b); returning no metrics.',
                logger='current', level=logging.WARNING)
            return {}
        per_direction = {name: self._direction(name, by_domain)
                         for name in _DIRECTIONS}
        metrics: dict = {}
        if self.extractor is not None:
            metrics['fid_mean'] = float(np.mean(
                [per_direction[n][f'{n}/fid'] for n in _DIRECTIONS]))
            metrics['kid_mean'] = float(np.mean(
                [per_direction[n][f'{n}/kid'] for n in _DIRECTIONS]))
        metrics['cycle_l1_mean'] = float(np.mean(
            [per_direction[n][f'{n}/cycle_l1'] for n in _DIRECTIONS]))
        for name in _DIRECTIONS:
            metrics.update(per_direction[name])
        print_log('\n' + format_translation_table(metrics, self._note()),
                  logger='current')
        return metrics

    def _note(self) -> str:
        if self.extractor is None:
            return ('FID/KID not computed: no Inception weights file (see '
                    'the warning at start-up)')
        ex = self.extractor
        note = (f'Inception {osp.basename(ex.weights)} '
                f'(sha256 {ex.weights_sha256[:12]}), resize {ex.resize} '
                f'to {ex.input_size}')
        return note + ('' if ex.input_size == 299 else
                       ' (not the standard 299: not comparable with '
                       'published numbers)')
