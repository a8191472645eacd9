"""Unpicklers that never run code from a file: tensors-only and plain."""
from __future__ import annotations

import io
import pickle
import re
from typing import Any

import torch


class _Inert:
    """Stands for any object that tensors-only reading refuses to build."""

    # torch's legacy reader asks a pickled container class for this before
    # writing a source patch file; an inert placeholder never asks for one.
    dump_patches = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> '_Inert':
        return _Inert()


# Globals needed for tensors and containers; none of them runs file code.
_TENSOR_GLOBALS = {
    ('collections', 'OrderedDict'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('torch', 'Size'),
}


def _is_storage_type(module: str, name: str) -> bool:
    """``torch.FloatStorage`` and the like: a plain name (no dotted path
    into torch) naming one of torch's storage classes."""
    return (module == 'torch' and name.isidentifier()
            and name.endswith('Storage')
            and isinstance(getattr(torch, name, None), type))


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle that must hold plain data names a global."""


class _PlainUnpickler(pickle.Unpickler):
    """Plain data only: any global, extension or persistent id is refused.

    torch's legacy reader loads the header (magic number, protocol, system
    info) and the trailer (storage keys) through ``pickle_module.load``;
    they hold numbers, strings and lists, nothing else.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise RefusedGlobal(f'GLOBAL {module}.{name} in a part of the file '
                             'that holds plain data')

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedGlobal('a persistent id in a part of the file that '
                             'holds plain data')


def _plain_load(file: Any, **kwargs: Any) -> Any:
    return _PlainUnpickler(file, **kwargs).load()


def _plain_loads(data: bytes, **kwargs: Any) -> Any:
    return _PlainUnpickler(io.BytesIO(data), **kwargs).load()


def tensors_only_pickle(refused: set[str]) -> Any:
    """A ``pickle_module`` for ``torch.load`` that never runs file code.

    The main pickle (``Unpickler``) builds tensors and containers; every
    other global is recorded in ``refused`` and replaced by an inert
    placeholder, and a persistent id other than a tensor storage (a legacy
    whole-module container) is refused. ``load``/``loads`` (the legacy
    format's header and trailer pickles) accept plain data only.
    """

    class Unpickler(pickle.Unpickler):

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _TENSOR_GLOBALS or _is_storage_type(
                    module, name):
                return super().find_class(module, name)
            refused.add(f'{module}.{name}')
            return _Inert

        # torch assigns its storage loader to ``persistent_load`` after
        # building the unpickler: wrap it so only storages come through.
        @property
        def persistent_load(self) -> Any:
            return pickle.Unpickler.persistent_load.__get__(self)

        @persistent_load.setter
        def persistent_load(self, load: Any) -> None:

            def storages_only(pid: Any) -> Any:
                kind = pid[0] if isinstance(pid, tuple) and pid else pid
                if isinstance(kind, bytes):
                    kind = kind.decode('ascii', 'replace')
                if kind != 'storage':
                    raise RefusedGlobal(
                        f'persistent id of kind {str(kind)[:40]!r} (a '
                        'pickled module container), not a tensor storage')
                return load(pid)

            pickle.Unpickler.persistent_load.__set__(  # type: ignore
                self, storages_only)

    class Module:
        load = staticmethod(_plain_load)
        loads = staticmethod(_plain_loads)

    Module.Unpickler = Unpickler  # type: ignore[attr-defined]
    return Module


_GLOBAL_RE = re.compile(r'GLOBAL ([\w.]+)')


def refused_type(err: Exception) -> str:
    """The global a refusal names (e.g. ``os.system``), else its message."""
    found = _GLOBAL_RE.findall(str(err))
    return found[0] if found else str(err).strip().splitlines()[-1][:200]
