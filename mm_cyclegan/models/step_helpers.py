"""Helpers of the CycleGAN model: freezing a discriminator, lifting
autocast outputs to fp32, wrapper-free state-dict keys."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, cast

import torch
from mmengine.model import is_model_wrapper
from torch import Tensor, nn

from mm_cyclegan.models.network_cfgs import NETWORKS

__all__ = ['frozen', 'as_fp32', 'strip_wrapper_keys']


@contextlib.contextmanager
def frozen(network: nn.Module) -> Iterator[None]:
    """Freeze a discriminator while the generators learn from it.

    Gradients still flow *through* it to the generators. When the network is
    DDP-wrapped it is still called through its wrapper, inside ``no_sync``:
    its parameters get no gradient in this backward pass, so the reducer
    must not wait for them.
    """
    params = [p for p in network.parameters()]
    previous = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    # cast: nn.Module's __getattr__ is typed as returning Tensor | Module.
    sync = cast(Any, network).no_sync() if is_model_wrapper(network) else \
        contextlib.nullcontext()
    try:
        with sync:
            yield
    finally:
        for p, flag in zip(params, previous):
            p.requires_grad_(flag)


def as_fp32(tensor: Tensor) -> Tensor:
    """fp32 copy of an autocast (bf16/fp16) output: losses and image pools
    work in fp32. Other dtypes pass through unchanged."""
    if tensor.dtype in (torch.bfloat16, torch.float16):
        return tensor.float()
    return tensor


def strip_wrapper_keys(module: nn.Module, state_dict: dict, prefix: str,
                       local_metadata: Any) -> None:
    """State-dict hook: drop the '.module.' a DDP wrapper adds to each
    network's keys, so checkpoints do not depend on the wrapping."""
    for name in NETWORKS:
        wrapped = f'{prefix}{name}.module.'
        for key in [k for k in state_dict if k.startswith(wrapped)]:
            state_dict[f'{prefix}{name}.' + key[len(wrapped):]] = \
                state_dict.pop(key)
