"""The web app: one page, four JSON/PNG endpoints (Starlette).

* ``GET /`` the page (``static/index.html`` + ``app.js`` + ``style.css``)
* ``GET /api/info`` model metadata, directions, upload limits
* ``GET /api/demo?seed=N`` a procedural landscape 'photo' as PNG
* ``POST /api/translate?direction=a2b&reconstruct=1`` the raw image file as
  the request body; answers the input, translation and reconstruction as
  PNG data URLs plus the time the translation took, or ``{"error": ...}``.

Requests share nothing mutable: each upload is read into its own buffer,
checked (:mod:`.uploads`), decoded in its own temporary folder, and its
result goes back in its own response. The model itself is read-only; a
lock lets one request be decoded and translated at a time (the others wait
in line): two CPU-bound translations at once would only split the cores
between them, and memory holds one decoded image, not one per client.
"""
from __future__ import annotations

import base64
import ipaddress
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from contextlib import asynccontextmanager
from typing import Optional, Sequence

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mm_cyclegan.apis.image_arrays import encode_image

from .model import ServedModel
from .uploads import UploadLimits, UploadRejected, check_size, decode_upload

__all__ = ['allowed_host_names', 'create_app', 'is_loopback', 'is_wildcard',
           'STATIC_DIR']

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'static')
#: Size of the demo landscape (height, width): landscape-shaped, small
#: enough to translate in about a second on a laptop CPU.
DEMO_SIZE = (192, 256)
_LOOPBACK_NAMES = ('localhost', '127.0.0.1', '::1', '[::1]')
# The page loads only its own files; results are data: URLs.
_HEADERS = {
    'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
}


def is_wildcard(host: str) -> bool:
    """``0.0.0.0`` / ``::`` (every interface), or an empty host."""
    try:
        return host in ('', '*') or ipaddress.ip_address(
            host.strip('[]')).is_unspecified
    except ValueError:
        return False


def allowed_host_names(host: str,
                       allow_hosts: Optional[Sequence[str]] = None) -> list:
    """The ``Host`` header names the app answers: the loopback names, the
    bound address when it is a specific one, and ``allow_hosts``."""
    names = ['localhost', '127.0.0.1', '[::1]', '::1']
    if not is_wildcard(host) and not is_loopback(host) and host not in names:
        names.append(host)
    for name in allow_hosts or ():
        if name not in names:
            names.append(name)
    return names


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (localhost, 127.x, ::1)."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _png_data_url(pixels: np.ndarray) -> str:
    """Pixels as a PNG ``data:`` URL (what the page shows and downloads)."""
    return 'data:image/png;base64,' + base64.b64encode(
        encode_image(pixels, 'png')).decode('ascii')


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({'error': message}, status_code=status,
                        headers=_HEADERS)


async def _read_body(request: Request, limits: UploadLimits) -> bytes:
    """Read the request body, keeping at most ``limits.max_bytes`` of it.

    A larger body is read to its end but discarded (memory stays bounded):
    answering before the client has finished sending would make browsers
    report a broken connection instead of showing our message.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limits.max_bytes:
            chunks.append(chunk)
        elif chunks:
            chunks = []
    check_size(size, limits)
    return b''.join(chunks)


def create_app(model: ServedModel,
               limits: Optional[UploadLimits] = None,
               host: str = '127.0.0.1',
               tmp_dir: Optional[str] = None,
               allow_hosts: Optional[Sequence[str]] = None) -> Starlette:
    """Build the app serving ``model``.

    ``host`` is the address the server binds. The app answers only requests
    whose ``Host`` header is a loopback name, the bound address (when it is
    not a wildcard such as ``0.0.0.0``) or one of ``allow_hosts``
    (:func:`allowed_host_names`; ``'*'`` allows any), so a web page
    elsewhere cannot reach it through DNS rebinding. ``tmp_dir`` is where
    the server's own temporary folder is created (default: the system's);
    the folder is removed when the server stops.
    """
    limits = limits or UploadLimits()
    # One lock, shared by all requests: they are decoded and translated one
    # at a time, in arrival order as far as the thread pool goes.
    model_lock = threading.Lock()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        state['tmp_root'] = tempfile.mkdtemp(prefix='mm_cyclegan_serve_',
                                             dir=tmp_dir)
        try:
            yield
        finally:
            shutil.rmtree(state.pop('tmp_root'), ignore_errors=True)

    async def index(request: Request) -> Response:
        return FileResponse(os.path.join(STATIC_DIR, 'index.html'),
                            headers=_HEADERS)

    async def info(request: Request) -> Response:
        return JSONResponse(
            {'model': model.metadata, 'directions': model.directions,
             'limits': {'max_bytes': limits.max_bytes,
                        'max_pixels': limits.max_pixels,
                        'text': limits.describe()}},
            headers=_HEADERS)

    async def demo(request: Request) -> Response:
        seed = request.query_params.get('seed', '0')
        # ASCII digits only: str.isdigit() also accepts '²', which int()
        # refuses.
        if not re.fullmatch(r'[0-9]{1,10}', seed) or int(seed) > 2**31:
            return _error(f'seed must be an integer in [0, 2^31], got '
                          f'{seed!r}', 400)
        png = await run_in_threadpool(_render_demo, int(seed))
        return Response(png, media_type='image/png', headers=_HEADERS)

    def work(data: bytes, direction: str, reconstruct: bool) -> dict:
        # The whole request holds the lock, decoding included: at most one
        # decoded image (up to max_pixels) is in memory at a time.
        with model_lock:
            pixels, _ = decode_upload(data, limits, state['tmp_root'])
            start = time.perf_counter()
            result = model.translate(pixels, direction,
                                     reconstruct=reconstruct)
            seconds = time.perf_counter() - start
            height, width = pixels.shape[:2]
            answer = {
                'direction': direction,
                'width': width,
                'height': height,
                'seconds': round(seconds, 3),
                'input': _png_data_url(pixels),
                'output': _png_data_url(result.output),
            }
            if result.reconstruction is not None:
                answer['reconstruction'] = _png_data_url(
                    result.reconstruction)
        return answer

    async def translate(request: Request) -> Response:
        direction = request.query_params.get('direction',
                                             model.directions[0])
        if direction not in model.directions:
            return _error(
                f'direction must be one of {model.directions} for these '
                f'weights, got {direction!r}', 400)
        reconstruct = request.query_params.get('reconstruct') == '1'
        try:
            data = await _read_body(request, limits)
            answer = await run_in_threadpool(work, data, direction,
                                             reconstruct)
        except UploadRejected as err:
            return _error(err.message, err.status)
        except Exception as err:  # keep serving; say what went wrong
            traceback.print_exc()  # the full story for whoever runs it
            return _error(f'The translation failed: {type(err).__name__}: '
                          f'{err}', 500)
        return JSONResponse(answer, headers=_HEADERS)

    middleware = [Middleware(
        TrustedHostMiddleware,
        allowed_hosts=allowed_host_names(host, allow_hosts))]
    routes = [
        Route('/', index),
        Route('/api/info', info),
        Route('/api/demo', demo),
        Route('/api/translate', translate, methods=['POST']),
        Mount('/static', StaticFiles(directory=STATIC_DIR), name='static'),
    ]
    return Starlette(routes=routes, middleware=middleware,
                     lifespan=lifespan)


def _render_demo(seed: int) -> bytes:
    """A procedural landscape in the photo style, as PNG bytes."""
    from mm_cyclegan.datasets.procedural import make_scene, render_photo
    pixels = render_photo(make_scene(seed), DEMO_SIZE)
    return encode_image(pixels, 'png')
