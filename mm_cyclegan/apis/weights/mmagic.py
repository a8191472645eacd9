"""Weights of MMagic's built-in CycleGAN (``generators.<domain>.*`` keys).

MMagic keeps one generator per *target* domain and one discriminator per
domain: ``generators[B]`` maps A -> B (our ``generator_a2b``) and
``discriminators[B]`` judges domain-B images (our ``discriminator_b``).
Its networks use the same module names as ours.

MMagic's pipeline is **BGR** (``LoadImageFromFile`` reads BGR and nothing
converts), so its networks expect and produce BGR. To run them on our RGB
images the first conv's input channels and the generator's last conv's
output channels are reversed; the result is the same network seen through
RGB glasses.
"""
from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence

import torch
from torch import Tensor

from mm_cyclegan.apis.weights.architecture import (
    infer_network_cfg,
    sub_state_dict,
)
from mm_cyclegan.apis.weights.kinds import LoadedWeights

StateDict = Mapping[str, Tensor]


def is_mmagic(state_dict: StateDict) -> bool:
    """Whether the keys are an MMagic translation model's."""
    return any(k.startswith('generators.') for k in state_dict)


def domains_in(state_dict: StateDict) -> list[str]:
    """The generator domains of the file, in the file's order."""
    seen: list[str] = []
    for key in state_dict:
        m = re.match(r'generators\.([^.]+)\.', key)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def domains_from_cfg(cfg_text: Optional[str]) -> Optional[tuple[str, str]]:
    """``(domain_a, domain_b)`` from an MMagic config's text, if it says.

    ``default_domain`` is the output of the default translation (B), and
    ``reachable_domains`` lists both.
    """
    if not cfg_text:
        return None
    default = re.search(r"default_domain\s*=\s*['\"]([^'\"]+)", cfg_text)
    reach = re.search(r'reachable_domains\s*=\s*\[([^\]]*)\]', cfg_text)
    if not default or not reach:
        return None
    names = re.findall(r"['\"]([^'\"]+)['\"]", reach.group(1))
    others = [n for n in names if n != default.group(1)]
    if len(others) != 1:
        return None
    return others[0], default.group(1)


def order_domains(state_dict: StateDict, cfg_text: Optional[str] = None,
                  domains: Optional[Sequence[str]] = None
                  ) -> tuple[str, str]:
    """Which MMagic domain is our A and which is B.

    ``domains`` (given by the user) wins; then the checkpoint's config
    (``default_domain`` is B); otherwise the first generator in the file is
    taken as B, because MMagic's configs list ``default_domain`` first in
    ``reachable_domains`` and build the generators in that order.
    """
    present = domains_in(state_dict)
    if len(present) != 2:
        raise ValueError('an MMagic CycleGAN checkpoint has two generators, '
                         f'found generators for {present}')
    if domains is not None:
        domains = tuple(domains)
        if len(domains) != 2 or set(domains) != set(present):
            raise ValueError(f'domains {domains!r} must name the two '
                             f'domains of the file, {present}, as (A, B)')
        return domains[0], domains[1]
    from_cfg = domains_from_cfg(cfg_text)
    if from_cfg and set(from_cfg) == set(present):
        return from_cfg
    return present[1], present[0]


def _bgr_to_rgb_input(weight: Tensor) -> Tensor:
    if weight.shape[1] != 3:
        return weight
    return weight[:, [2, 1, 0]].clone()


def _bgr_to_rgb_output(tensor: Tensor) -> Tensor:
    if tensor.shape[0] != 3:
        return tensor
    return tensor[[2, 1, 0]].clone()


def generator_to_rgb(state_dict: StateDict) -> dict:
    """Reverse the colour channels at the input and output of a generator."""
    out = dict(state_dict)
    out['model.0.conv.weight'] = _bgr_to_rgb_input(out['model.0.conv.weight'])
    last = max(int(m.group(1)) for k in out
               for m in [re.match(r'model\.(\d+)\.conv\.weight$', k)] if m)
    for name in ('weight', 'bias'):
        key = f'model.{last}.conv.{name}'
        if key in out:
            out[key] = _bgr_to_rgb_output(out[key])
    return out


def discriminator_to_rgb(state_dict: StateDict) -> dict:
    """Reverse the colour channels at the input of a discriminator."""
    out = dict(state_dict)
    out['model.0.conv.weight'] = _bgr_to_rgb_input(out['model.0.conv.weight'])
    return out


def convert(state_dict: StateDict, cfg_text: Optional[str] = None,
            domains: Optional[Sequence[str]] = None) -> dict:
    """Split an MMagic CycleGAN state dict into our four networks (RGB).

    Returns ``{'generator_a2b': sd, 'generator_b2a': sd,
    'discriminator_a': sd, 'discriminator_b': sd, 'domains': (a, b)}``
    (discriminators only when the file has them).
    """
    if any(k.startswith('generators.') and '.model.0.conv.' not in k
           and re.match(r'generators\.[^.]+\.model\.\d+\.', k) is None
           for k in state_dict):
        raise ValueError('only MMagic ResnetGenerator weights '
                         '(generators.<domain>.model.N.*) are supported')
    domain_a, domain_b = order_domains(state_dict, cfg_text, domains)
    out: dict = {'domains': (domain_a, domain_b)}
    with torch.no_grad():
        out['generator_a2b'] = generator_to_rgb(
            sub_state_dict(state_dict, f'generators.{domain_b}.'))
        out['generator_b2a'] = generator_to_rgb(
            sub_state_dict(state_dict, f'generators.{domain_a}.'))
        for ours, theirs in (('discriminator_a', domain_a),
                             ('discriminator_b', domain_b)):
            disc = sub_state_dict(state_dict, f'discriminators.{theirs}.')
            if disc:
                out[ours] = discriminator_to_rgb(disc)
    return out


def read_mmagic(path: str, ckpt: Mapping, state_dict: StateDict,
                domains: Optional[Sequence[str]]) -> LoadedWeights:
    """An MMagic checkpoint (``ckpt``, its ``state_dict`` unwrapped) as
    :class:`LoadedWeights`."""
    meta: Mapping = ckpt['meta'] if isinstance(ckpt.get('meta'),
                                               Mapping) else {}
    cfg_text = meta.get('cfg') if isinstance(meta.get('cfg'), str) else None
    parts = convert(state_dict, cfg_text, domains)
    loaded = LoadedWeights(kind='mmagic', source=path,
                           domains=parts.pop('domains'))
    for name, sub in parts.items():
        loaded.networks[name] = (infer_network_cfg(name, sub), sub)
    if isinstance(meta.get('iter'), int):
        loaded.iterations = meta['iter']
    return loaded
