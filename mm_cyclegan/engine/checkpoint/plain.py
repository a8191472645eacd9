"""Plain form: every value of a checkpoint as ``weights_only`` loads it.

The few non-plain objects a training state holds (MMEngine's
``HistoryBuffer``, numpy arrays and scalars) become tagged dicts on save
and are rebuilt on load.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from .errors import UnsafeCheckpointError

_TAG = '__mm_cyclegan_type__'
# numpy dtypes a tensor cannot hold are stored widened and narrowed back.
_WIDEN = {'uint16': np.int64, 'uint32': np.int64, 'uint64': np.int64}


def encode_state(obj: Any, where: str = 'checkpoint') -> Any:
    """Return ``obj`` with every value in a form ``weights_only`` accepts.

    Raises ``TypeError`` naming the type and where it is (e.g.
    ``checkpoint['meta']['x']``) for anything else, so a checkpoint that
    could not be resumed safely is never written.
    """
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, np.generic):  # before float: np.float64 is a float
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes,
                                       torch.Tensor, torch.Size)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f'{where}: numpy array of Python objects cannot '
                            'be stored in a checkpoint')
        dtype = str(obj.dtype)
        data = np.ascontiguousarray(obj).astype(_WIDEN.get(dtype, obj.dtype))
        return {_TAG: 'ndarray', 'dtype': dtype,
                'data': torch.from_numpy(data.copy())}
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {_TAG: 'HistoryBuffer', 'max_length': int(obj.max_length),
                'log': encode_state(np.asarray(log), where + '.log'),
                'count': encode_state(np.asarray(count), where + '.count')}
    if isinstance(obj, dict):
        if _TAG in obj:
            raise TypeError(f'{where}: key {_TAG!r} is reserved')
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool)) and \
                    key is not None:
                raise TypeError(f'{where}: dict key of type '
                                f'{type(key).__qualname__} cannot be stored')
            out[key] = encode_state(value, f'{where}[{key!r}]')
        return out
    if isinstance(obj, (list, tuple)):
        items = [encode_state(v, f'{where}[{i}]') for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise TypeError(
        f'{where}: objects of type {type(obj).__module__}.'
        f'{type(obj).__qualname__} cannot be stored in a checkpoint that '
        'loads with weights_only=True; store tensors, numbers, strings and '
        'containers of them')


def decode_state(obj: Any) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(obj, dict):
        tag = obj.get(_TAG)
        if tag == 'ndarray':
            return obj['data'].numpy().astype(obj['dtype'])
        if tag == 'HistoryBuffer':
            from mmengine.logging import HistoryBuffer
            return HistoryBuffer(list(decode_state(obj['log'])),
                                 list(decode_state(obj['count'])),
                                 obj['max_length'])
        if tag is not None:
            raise UnsafeCheckpointError(f'unknown stored type {tag!r}')
        out = OrderedDict() if isinstance(obj, OrderedDict) else {}
        for key, value in obj.items():
            out[key] = decode_state(value)
        return out
    if isinstance(obj, list):
        return [decode_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(decode_state(v) for v in obj)
    return obj
