"""Registered discriminators: the PatchGAN and the 1x1 PixelGAN."""
from .patchgan import PatchDiscriminator
from .pixelgan import PixelDiscriminator

__all__ = ['PatchDiscriminator', 'PixelDiscriminator']
