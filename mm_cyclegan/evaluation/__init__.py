"""Metrics: paired quality against ground truth; unpaired FID/KID."""
from .fid_kid import (
    feature_statistics,
    fid_from_features,
    frechet_distance,
    kernel_inception_distance,
    polynomial_mmd,
)
from .functional import color_distance, psnr, rgb_to_lab, ssim
from .image_writer import TranslationImageWriter, add_image_writer
from .inception import (
    InceptionFeatureExtractor,
    InceptionWeightsMissing,
    build_fid_inception,
    find_inception_weights,
)
from .paired_metrics import PairedTranslationMetric, format_metric_table
from .report import format_translation_table
from .translation_metric import TranslationMetric

__all__ = [
    'InceptionFeatureExtractor', 'InceptionWeightsMissing',
    'PairedTranslationMetric', 'TranslationImageWriter', 'TranslationMetric',
    'add_image_writer', 'build_fid_inception', 'color_distance',
    'feature_statistics', 'fid_from_features', 'find_inception_weights',
    'format_metric_table', 'format_translation_table', 'frechet_distance',
    'kernel_inception_distance', 'polynomial_mmd', 'psnr', 'rgb_to_lab', 'ssim'
]
