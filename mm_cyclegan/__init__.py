"""mm_cyclegan: CycleGAN for MMagic on MMEngine, as a plugin.

Importing the package applies the upstream workarounds in
:mod:`mm_cyclegan.compat` and creates the ``mm_cyclegan`` registries. The
components themselves are imported lazily by the registries' ``locations``.
"""
from . import compat

compat.apply_all()

from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
