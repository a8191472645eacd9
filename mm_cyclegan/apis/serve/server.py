"""Run the app with Uvicorn on a socket we bind ourselves.

Binding first lets ``--port 0`` pick a free port and print the real
address (tests read it), and turns 'port already in use' into a message.
"""
from __future__ import annotations

import socket
import sys
from typing import Optional, Sequence

import uvicorn

from .app import allowed_host_names, create_app, is_loopback
from .model import ServedModel
from .uploads import UploadLimits

__all__ = ['bind', 'exposure_warning', 'serve']


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


def exposure_warning(host: str,
                     allow_hosts: Optional[Sequence[str]] = None
                     ) -> Optional[str]:
    """A warning when ``host`` is not a loopback address, else ``None``."""
    if is_loopback(host):
        return None
    names = allowed_host_names(host, allow_hosts)
    hint = ('' if allow_hosts else ' Add --allow-host NAME [NAME ...] with '
            'the names or addresses clients use to reach this machine.')
    return (f'warning: --host {host}: the page is reachable from the network: '
            'anyone who can reach this port can translate images with it '
            'and use its CPU. Requests are answered only for the Host '
            f'names {", ".join(names)}.{hint}')


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
          tmp_dir: Optional[str] = None,
          allow_hosts: Optional[Sequence[str]] = None) -> int:
    """Load ``weights``, serve the page until interrupted; exit code.

    ``allow_hosts``: further ``Host`` header names to answer (see
    :func:`~.app.create_app`).
    """
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
    warning = exposure_warning(host, allow_hosts)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    app = create_app(model, limits, host=host, tmp_dir=tmp_dir,
                     allow_hosts=allow_hosts)
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
