"""Datasets: unpaired image folders, their loading, transforms, sampler."""
import importlib.util

from .image_io import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    decode_image,
    read_image,
    to_float,
)
from .sampler import UnpairedEpochSampler
from .scan import BadImageFilesError, ScanResult, list_image_files, scan_folder
from .seeding import decode_index, derive_seed, encode_index, sample_rng
from .transforms import PREPROCESS_MODES, Preprocess
from .unpaired_dataset import UnpairedImageDataset

# Another component lives in ``procedural``; import it when present so its
# registrations happen with the rest of the package.
if importlib.util.find_spec(__name__ + '.procedural') is not None:
    from . import procedural  # noqa: F401

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageReadError', 'decode_image', 'read_image',
    'to_float', 'UnpairedEpochSampler', 'BadImageFilesError', 'ScanResult',
    'list_image_files', 'scan_folder', 'derive_seed', 'PREPROCESS_MODES',
    'Preprocess', 'UnpairedImageDataset', 'decode_index', 'encode_index',
    'sample_rng'
]
