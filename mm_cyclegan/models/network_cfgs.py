"""The four networks' configs of a CycleGAN: the mirrored generator, the
copied discriminator and the channel counts they must agree on.

The one place that knows how :class:`~mm_cyclegan.models.CycleGAN`
completes its configs; weight readers and the publisher use it too.
"""
from __future__ import annotations

import copy
from typing import Optional

__all__ = [
    'NETWORKS', 'complete_network_cfgs', 'channels_of',
    'identity_loss_possible', 'mirror_generator_cfg'
]

#: The CycleGAN's network attributes, also its checkpoint key prefixes.
NETWORKS = ('generator_a2b', 'generator_b2a', 'discriminator_a',
            'discriminator_b')


def channels_of(cfg: dict, key: str, name: str) -> int:
    """``cfg[key]``, a channel count, as an int; ValueError naming the
    network ``name`` when the config lacks it."""
    if key not in cfg:
        raise ValueError(f'{name} config needs {key!r} to know the domain '
                         f'channels, got {cfg}')
    return int(cfg[key])


def mirror_generator_cfg(cfg: dict) -> dict:
    """The config of the generator of the opposite direction: a copy of
    ``cfg`` with ``in_channels`` and ``out_channels`` swapped."""
    return dict(copy.deepcopy(cfg),
                in_channels=channels_of(cfg, 'out_channels', 'generator'),
                out_channels=channels_of(cfg, 'in_channels', 'generator'))


def identity_loss_possible(generator_a2b: dict) -> bool:
    """The identity loss compares ``G_a2b(b)`` with ``b``: it needs domains
    with equal channel counts (otherwise ``identity_weight`` must be 0)."""
    return channels_of(generator_a2b, 'in_channels', 'generator_a2b') == \
        channels_of(generator_a2b, 'out_channels', 'generator_a2b')


def complete_network_cfgs(generator_a2b: dict,
                          discriminator_b: Optional[dict] = None,
                          generator_b2a: Optional[dict] = None,
                          discriminator_a: Optional[dict] = None) -> dict:
    """Fill in the mirrored networks and check every channel count.

    Domain channels come from ``generator_a2b`` (``in_channels`` is domain
    a, ``out_channels`` domain b). A missing ``generator_b2a`` is its
    mirror (:func:`mirror_generator_cfg`); a missing ``discriminator_a`` a
    copy of ``discriminator_b`` for domain a. Without ``discriminator_b``
    (inference) only the generators are returned. The one place that knows
    how :class:`CycleGAN` completes its configs: weight readers and the
    publisher use it too.
    """
    channels = dict(
        a=channels_of(generator_a2b, 'in_channels', 'generator_a2b'),
        b=channels_of(generator_a2b, 'out_channels', 'generator_a2b'))
    if generator_b2a is None:
        generator_b2a = mirror_generator_cfg(generator_a2b)
    cfgs = dict(generator_a2b=generator_a2b, generator_b2a=generator_b2a)
    if discriminator_b is not None:
        if discriminator_a is None:
            discriminator_a = dict(copy.deepcopy(discriminator_b),
                                   in_channels=channels['a'])
        cfgs.update(discriminator_a=discriminator_a,
                    discriminator_b=discriminator_b)
    # (network, key, domain whose channel count it must equal)
    expected = (('generator_b2a', 'in_channels', 'b'),
                ('generator_b2a', 'out_channels', 'a'),
                ('discriminator_a', 'in_channels', 'a'),
                ('discriminator_b', 'in_channels', 'b'))
    for name, key, domain in expected:
        if name not in cfgs:
            continue
        got = channels_of(cfgs[name], key, name)
        if got != channels[domain]:
            raise ValueError(
                f'{name}.{key} is {got}, but domain {domain} has '
                f'{channels[domain]} channels (from generator_a2b)')
    return cfgs
