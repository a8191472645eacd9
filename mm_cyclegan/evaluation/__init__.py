"""Metrics: paired translation quality against ground truth and identity."""
from .functional import color_distance, psnr, rgb_to_lab, ssim
from .paired_metrics import PairedTranslationMetric, format_metric_table

__all__ = [
    'PairedTranslationMetric', 'color_distance', 'format_metric_table',
    'psnr', 'rgb_to_lab', 'ssim'
]
