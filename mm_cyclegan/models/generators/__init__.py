"""Registered generators: the paper's ResNet and the pix2pix U-Net."""
from .resnet import ResnetGenerator
from .unet import UnetGenerator

__all__ = ['ResnetGenerator', 'UnetGenerator']
