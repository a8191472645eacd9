"""Run the app with Uvicorn on a socket we bind ourselves.

Binding first lets ``--port 0`` pick a free port and print the real
address (tests read it), and turns 'port already in use' into a message.
"""
from __future__ import annotations

import socket
import sys
from typing import Optional

import uvicorn

from .app import create_app
from .model import ServedModel
from .uploads import UploadLimits

__all__ = ['bind', 'serve']


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6)."""
    if not 0 <= port <= 65535:
        raise ValueError(f'port must be in [0, 65535], got {port}')
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(64)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ':' in host:
        host = f'[{host}]'
    return f'http://{host}:{port}/'


def serve(weights: str,
          host: str = '127.0.0.1',
          port: int = 7860,
          device: str = 'cpu',
          max_bytes: Optional[int] = None,
          max_pixels: Optional[int] = None,
          tmp_dir: Optional[str] = None) -> int:
    """Load ``weights``, serve the page until interrupted; exit code."""
    try:
        limits = UploadLimits(
            **{k: v for k, v in (('max_bytes', max_bytes),
                                 ('max_pixels', max_pixels))
               if v is not None})
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    try:
        model = ServedModel.from_file(weights, device=device)
    except (ValueError, TypeError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    except Exception as err:  # e.g. a file torch cannot unpickle at all
        print(f'error: cannot load weights {weights!r}: '
              f'{type(err).__name__}: {err}', file=sys.stderr)
        return 2
    try:
        sock = bind(host, port)
    except (OSError, ValueError) as err:
        print(f'error: cannot listen on {host}:{port}: {err}',
              file=sys.stderr)
        return 1
    app = create_app(model, limits, host=host, tmp_dir=tmp_dir)
    config = uvicorn.Config(app, log_level='warning', access_log=False)
    print(f'Model: {model.describe()}', flush=True)
    print(f'Serving on {_url(sock)}  (Ctrl+C to stop)', flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        # Uvicorn has shut down cleanly, then re-raises the Ctrl+C.
        pass
    finally:
        sock.close()
    print('Stopped.', flush=True)
    return 0
