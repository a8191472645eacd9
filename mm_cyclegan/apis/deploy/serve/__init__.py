"""A local web page to try a model (``tools/serve.py``).

Built only on the inference layer (:class:`mm_cyclegan.apis.Translator`):
the page adds no second way to load weights or run a generator. The web
stack (Starlette + Uvicorn) is the optional extra ``serve``; importing this
package does not need it, :func:`require_web_stack` says what to install.
"""
from __future__ import annotations

import importlib

from .uploads import UploadLimits, UploadRejected, decode_upload

__all__ = [
    'INSTALL_HINT', 'MissingServeExtra', 'UploadLimits', 'UploadRejected',
    'decode_upload', 'require_web_stack'
]

#: The command that installs the web stack.
INSTALL_HINT = "pip install -e '.[serve]'"
_WEB_STACK = ('starlette', 'uvicorn')


class MissingServeExtra(ImportError):
    """The optional web stack is not installed."""


def require_web_stack() -> None:
    """Raise :class:`MissingServeExtra` naming the install command when the
    packages of the ``serve`` extra cannot be imported."""
    missing = []
    for name in _WEB_STACK:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingServeExtra(
            f'the web page needs the optional "serve" extra, which is not '
            f'installed (missing: {", ".join(missing)}). Install it from '
            f'the repository root with: {INSTALL_HINT} (or, into the '
            "Makefile's .venv, the pinned versions: make install, i.e. "
            'pip install -r requirements/serve.txt)')
