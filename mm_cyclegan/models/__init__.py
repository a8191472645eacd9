"""Networks, losses and the CycleGAN model (all registered in MODELS)."""
from . import discriminators, generators, losses  # noqa: F401
from .cyclegan import CycleGAN
from .network_cfgs import (
    complete_network_cfgs,
    identity_loss_possible,
    mirror_generator_cfg,
)

__all__ = [
    'CycleGAN', 'complete_network_cfgs', 'identity_loss_possible',
    'mirror_generator_cfg', 'discriminators', 'generators', 'losses']
