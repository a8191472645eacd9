"""Networks, losses and the CycleGAN model (all registered in MODELS)."""
from . import discriminators, generators, losses  # noqa: F401
from .cyclegan import CycleGAN

__all__ = ['CycleGAN', 'discriminators', 'generators', 'losses']
