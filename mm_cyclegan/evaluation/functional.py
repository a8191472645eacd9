"""Image-quality measures on tensors: PSNR, SSIM, local colour distance.

Pure functions. Inputs are float tensors of shape ``(C, H, W)`` or
``(N, C, H, W)`` with values in ``[0, data_range]`` (RGB for the colour
distance); each function returns one value per image, shape ``(N,)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mm_cyclegan.utils.validation import check_int, check_number

__all__ = ['color_distance', 'gaussian_window', 'psnr', 'rgb_to_lab', 'ssim']

# sRGB (D65) -> XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor([[0.412456, 0.357576, 0.180438],
                            [0.212673, 0.715152, 0.072175],
                            [0.019334, 0.119192, 0.950304]],
                           dtype=torch.float64)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754], dtype=torch.float64)


def _pair(pred: torch.Tensor, target: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate shapes and return float64 ``(N, C, H, W)`` copies."""
    for name, x in (('pred', pred), ('target', target)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'{name} must be a torch.Tensor, got '
                            f'{type(x).__name__}')
        if x.dim() not in (3, 4):
            raise ValueError(f'{name} must have shape (C, H, W) or '
                             f'(N, C, H, W), got {tuple(x.shape)}')
    if pred.shape != target.shape:
        raise ValueError(f'pred and target shapes differ: '
                         f'{tuple(pred.shape)} vs {tuple(target.shape)}')
    if pred.dim() == 3:
        pred, target = pred[None], target[None]
    return pred.detach().double(), target.detach().double()


def psnr(pred: torch.Tensor, target: torch.Tensor,
         data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (``inf`` if identical)."""
    data_range = check_number('data_range', data_range, above=0)
    pred, target = _pair(pred, target)
    mse = (pred - target).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Normalised 1-D Gaussian of odd length ``size`` (float64)."""
    size = check_int('window size', size, minimum=1)
    if size % 2 == 0:
        raise ValueError(f'window size must be a positive odd int, got '
                         f'{size}')
    sigma = check_number('sigma', sigma, above=0)
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    window = torch.exp(-x * x / (2 * sigma * sigma))
    return window / window.sum()


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter per channel, 'valid' borders."""
    channels = x.shape[1]
    k = window.numel()
    horizontal = window.view(1, 1, 1, k).repeat(channels, 1, 1, 1)
    vertical = window.view(1, 1, k, 1).repeat(channels, 1, 1, 1)
    x = F.conv2d(x, horizontal, groups=channels)
    return F.conv2d(x, vertical, groups=channels)


def ssim(pred: torch.Tensor,
         target: torch.Tensor,
         data_range: float = 1.0,
         window_size: int = 11,
         sigma: float = 1.5,
         k1: float = 0.01,
         k2: float = 0.03) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image.

    Gaussian-weighted local statistics (11 x 11, sigma 1.5 by default),
    computed per channel over the window positions that fit inside the
    image, then averaged over positions and channels.
    """
    data_range = check_number('data_range', data_range, above=0)
    pred, target = _pair(pred, target)
    height, width = pred.shape[-2:]
    if min(height, width) < window_size:
        raise ValueError(f'images of {height}x{width} are smaller than the '
                         f'SSIM window ({window_size})')
    window = gaussian_window(window_size, sigma).to(pred.device)
    c1 = (k1 * data_range)**2
    c2 = (k2 * data_range)**2
    mu_x = _filter(pred, window)
    mu_y = _filter(target, window)
    var_x = _filter(pred * pred, window) - mu_x * mu_x
    var_y = _filter(target * target, window) - mu_y * mu_y
    cov = _filter(pred * target, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    return ssim_map.flatten(1).mean(dim=1)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] (``(N, 3, H, W)``) to CIELAB (D65), float64."""
    if rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ValueError(f'rgb must have shape (N, 3, H, W), got '
                         f'{tuple(rgb.shape)}')
    rgb = rgb.double().clamp(0.0, 1.0)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92,
                         ((rgb + 0.055) / 1.055)**2.4)
    matrix = _RGB_TO_XYZ.to(rgb.device)
    xyz = torch.einsum('ij,njhw->nihw', matrix, linear)
    xyz = xyz / _WHITE.to(rgb.device).view(1, 3, 1, 1)
    eps = (6 / 29)**3
    f = torch.where(xyz > eps, xyz.clamp_min(eps)**(1 / 3),
                    xyz / (3 * (6 / 29)**2) + 4 / 29)
    lightness = 116 * f[:, 1] - 16
    a = 500 * (f[:, 0] - f[:, 1])
    b = 200 * (f[:, 1] - f[:, 2])
    return torch.stack([lightness, a, b], dim=1)


def color_distance(pred: torch.Tensor, target: torch.Tensor,
                   grid: int = 8) -> torch.Tensor:
    """Mean CIE76 colour difference (ΔE) between block-averaged images.

    Both RGB images in [0, 1] are averaged over a ``grid`` x ``grid`` grid of
    blocks (8 x 8 blocks of 8 px at 64 px) before comparing their CIELAB
    colours block by block. Averaging first makes thin lines that are a
    pixel off cost almost nothing, while a wrong palette or a region of the
    wrong colour still shows. Lower is better; about 2.3 is a just
    noticeable difference.
    """
    pred, target = _pair(pred, target)
    if pred.shape[1] != 3:
        raise ValueError(f'color_distance needs RGB images, got '
                         f'{pred.shape[1]} channels')
    grid = check_int('grid', grid, 1)
    pred = F.adaptive_avg_pool2d(pred, grid)
    target = F.adaptive_avg_pool2d(target, grid)
    delta = rgb_to_lab(pred) - rgb_to_lab(target)
    return delta.pow(2).sum(dim=1).sqrt().flatten(1).mean(dim=1)
