"""The FID Inception-v3 (pytorch-fid's network), loaded from a local file.

The network is torchvision's Inception-v3 with the FID-specific blocks that
MMagic ships (``mmagic.evaluation.functional.fid_inception``, the same
blocks as pytorch-fid and MMagic's ``TransFID``); this module only finds the
weights file, loads it with strict keys and tensors-only unpickling, and
turns images into 2048-d pool3 features. Nothing is ever downloaded.

Where the weights file is looked for, first hit wins:

1. an explicit path (the metric's ``inception_weights``, ``--weights``);
2. the environment variable ``MM_CYCLEGAN_INCEPTION``;
3. ``<torch hub dir>/checkpoints/pt_inception-2015-12-05-6726825d.pth``
   (where pytorch-fid and MMagic cache it; ``torch.hub.get_dir()``, usually
   ``~/.cache/torch/hub``).

Resizing to the network's 299 x 299 input:

* ``'bilinear'``: ``F.interpolate(bilinear, align_corners=False)`` on
  ``[0, 1]`` images, then ``2x - 1``: exactly pytorch-fid and MMagic's
  ``TransFID`` (``inception_style='PyTorch'``), so numbers are comparable
  with tables computed with those (MMagic's CycleGAN README, most
  unpaired-translation papers that run pytorch-fid on result folders).
* ``'clean'``: clean-fid's resize, Pillow bicubic per channel on float32
  (mode ``'F'``) in [0, 255], clipped, no quantisation. clean-fid's own
  tables also use its TorchScript port of the same TensorFlow Inception, so
  ``'clean'`` numbers are close to, not identical with, clean-fid's.
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from mm_cyclegan.utils.validation import check_choice, check_int

__all__ = [
    'ENV_VAR', 'WEIGHTS_FILENAME', 'WEIGHTS_URL', 'RESIZE_MODES',
    'InceptionWeightsMissing', 'InceptionFeatureExtractor',
    'build_fid_inception', 'file_sha256', 'find_inception_weights',
    'get_feature_extractor', 'inception_search_paths'
]

WEIGHTS_FILENAME = 'pt_inception-2015-12-05-6726825d.pth'
WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/'
               'fid_weights/' + WEIGHTS_FILENAME)
ENV_VAR = 'MM_CYCLEGAN_INCEPTION'
RESIZE_MODES = ('bilinear', 'clean')
FEATURE_DIM = 2048


class InceptionWeightsMissing(FileNotFoundError):
    """The FID Inception weights file is not on this machine."""


def inception_search_paths(path: Optional[str] = None) -> list[str]:
    """The candidate locations of the weights file, in search order."""
    candidates = []
    if path:
        candidates.append(osp.expanduser(str(path)))
    if os.environ.get(ENV_VAR):
        candidates.append(osp.expanduser(os.environ[ENV_VAR]))
    candidates.append(
        osp.join(torch.hub.get_dir(), 'checkpoints', WEIGHTS_FILENAME))
    return candidates


def missing_weights_message(path: Optional[str] = None) -> str:
    """What is missing, where it was looked for and how to get it."""
    looked = '\n'.join(f'    {p}' for p in inception_search_paths(path))
    hub = osp.join(torch.hub.get_dir(), 'checkpoints')
    return (
        f'FID/KID need the Inception weights file {WEIGHTS_FILENAME} '
        f'(pytorch-fid\'s), not found. Looked at:\n{looked}\n'
        '  Get it once on a machine with internet access:\n'
        f'    {WEIGHTS_URL}\n'
        f'  and put it in {hub}/ (the torch hub cache, shared with '
        f'pytorch-fid and MMagic), or point ${ENV_VAR} or the metric\'s '
        'inception_weights option at it. Nothing is downloaded at run '
        'time.')


def find_inception_weights(path: Optional[str] = None) -> str:
    """The first existing candidate of :func:`inception_search_paths`.

    Raises :class:`InceptionWeightsMissing` (naming the file, every place
    looked at and how to get it) when there is none. An explicit ``path``
    that does not exist is an error even if another candidate exists, so a
    typo is never silently replaced by a different file.
    """
    if path and not osp.isfile(osp.expanduser(str(path))):
        raise InceptionWeightsMissing(
            f'inception_weights={path!r} does not exist.\n' +
            missing_weights_message(path))
    for candidate in inception_search_paths(path):
        if osp.isfile(candidate):
            return candidate
    raise InceptionWeightsMissing(missing_weights_message(path))


_HASHES: dict = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file (cached per path, size and modification time)."""
    stat = os.stat(path)
    key = (osp.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def build_fid_inception() -> nn.Module:
    """pytorch-fid's Inception-v3 with random weights, in the file's layout.

    torchvision's Inception3 (1008 classes, no aux head, no slow init since
    the weights are loaded next) with MMagic's FID blocks swapped in, as
    pytorch-fid's ``fid_inception_v3``; ``state_dict()`` keys are those of
    ``pt_inception-2015-12-05-6726825d.pth``.
    """
    from torchvision.models.inception import Inception3

    from mm_cyclegan.compat import load_mmagic_fid_inception

    # Not ``from mmagic.evaluation...``: that imports mmagic.models (~10 s).
    blocks = load_mmagic_fid_inception()
    FIDInceptionA, FIDInceptionC = blocks.FIDInceptionA, blocks.FIDInceptionC
    FIDInceptionE_1 = blocks.FIDInceptionE_1
    FIDInceptionE_2 = blocks.FIDInceptionE_2
    net = Inception3(num_classes=1008, aux_logits=False, init_weights=False,
                     transform_input=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


def _clean_resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """clean-fid's resize: Pillow bicubic per channel on float32 [0, 255]."""
    array = (images.double() * 255.0).float().cpu().numpy()
    out = np.empty(array.shape[:2] + (size, size), np.float32)
    for n in range(array.shape[0]):
        for c in range(array.shape[1]):
            channel = Image.fromarray(array[n, c], mode='F')
            out[n, c] = np.asarray(
                channel.resize((size, size), Image.Resampling.BICUBIC))
    return torch.from_numpy(np.clip(out, 0.0, 255.0) / 255.0)


class InceptionFeatureExtractor:
    """2048-d pool3 features of images, pytorch-fid style.

    Args:
        weights: Weights file; ``None`` searches as
            :func:`find_inception_weights`.
        resize: ``'bilinear'`` (pytorch-fid, MMagic TransFID) or ``'clean'``
            (clean-fid's Pillow bicubic); see the module docstring.
        input_size: Side the images are resized to. 299 is the standard;
            anything else (>= 75) gives numbers comparable only among
            themselves (used by quick tests).
        batch_size: Images per forward pass.
        device: Torch device of the network.

    Call it with ``(N, C, H, W)`` float images in ``[0, 1]`` (C = 1 or 3);
    returns float64 ``(N, 2048)``.
    """

    def __init__(self,
                 weights: Optional[str] = None,
                 resize: str = 'bilinear',
                 input_size: int = 299,
                 batch_size: int = 16,
                 device: str = 'cpu') -> None:
        check_choice('resize', resize, RESIZE_MODES)
        # 75 px: the smallest input Inception-v3 accepts.
        check_int('input_size', input_size, minimum=75)
        check_int('batch_size', batch_size, minimum=1)
        self.weights = find_inception_weights(weights)
        self.weights_sha256 = file_sha256(self.weights)
        self.resize = resize
        self.input_size = input_size
        self.batch_size = batch_size
        self.device = torch.device(device)
        state = torch.load(self.weights, map_location='cpu',
                           weights_only=True)
        if isinstance(state, dict) and 'state_dict' in state:
            state = state['state_dict']
        net = build_fid_inception()
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ValueError(
                f'{self.weights} is not a pytorch-fid Inception state dict '
                f'({WEIGHTS_FILENAME} layout): {error}') from error
        # pool3 features: everything up to the global average pool.
        net.fc = nn.Identity()
        self.net = net.eval().requires_grad_(False).to(self.device)

    @property
    def key(self) -> str:
        """What the features depend on: weights, resize mode, input size."""
        return (f'{self.weights_sha256[:16]}-{self.resize}-'
                f'{self.input_size}')

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError('images must be (N, 1 or 3, H, W) in [0, 1], '
                             f'got shape {tuple(images.shape)}')
        images = images.float()
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        size = self.input_size
        if self.resize == 'clean':
            images = _clean_resize(images, size)
        elif images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size),
                                   mode='bilinear', align_corners=False)
        return 2.0 * images - 1.0

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> np.ndarray:
        """Pool3 features of ``(N, C, H, W)`` images in ``[0, 1]``."""
        features = []
        for start in range(0, images.shape[0], self.batch_size):
            batch = self._prepare(images[start:start + self.batch_size])
            out = self.net(batch.to(self.device))
            features.append(out.reshape(out.shape[0], -1).double().cpu())
        if not features:
            return np.zeros((0, FEATURE_DIM))
        return torch.cat(features).numpy()


_EXTRACTORS: dict = {}


def get_feature_extractor(weights: Optional[str] = None,
                          resize: str = 'bilinear',
                          input_size: int = 299,
                          batch_size: int = 16,
                          device: str = 'cpu') -> InceptionFeatureExtractor:
    """A shared :class:`InceptionFeatureExtractor` per file and settings.

    Validation and test metrics of one process reuse one network instead of
    loading ~100 MB twice.
    """
    path = find_inception_weights(weights)
    stat = os.stat(path)
    key = (osp.abspath(path), stat.st_mtime_ns, resize, input_size,
           batch_size, str(device))
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = InceptionFeatureExtractor(
            path, resize, input_size, batch_size, device)
    return _EXTRACTORS[key]
