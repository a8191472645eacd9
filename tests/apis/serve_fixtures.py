"""Helpers of the browser test of the web page (tests/apis/test_serve_page.py)
that need no browser: the tool in a subprocess, test images, PNG data URLs.
"""
import base64
import io
import os
import os.path as osp
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import cv2
import numpy as np
from PIL import Image

from tests.helpers import REPO

# Limits of the test server: the demo image (256 x 192) fits, the
# 'oversized' test images do not.
MAX_PIXELS = 60_000
MAX_BYTES = 200_000
WAIT = 60  # seconds; generous for 2 busy cores, never a speed assertion


def write_png(path, height, width, seed=0, noise=True):
    """A PNG of the given size; random noise or a smooth gradient."""
    rng = np.random.default_rng(seed)
    if noise:
        pixels = rng.integers(0, 256, (height, width, 3), np.uint8)
    else:
        ramp = np.linspace(0, 255, width, dtype=np.float32)
        pixels = np.broadcast_to(ramp[None, :, None],
                                 (height, width, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def data_url_pixels(url, depth=8):
    """The pixels of a PNG data URL, RGB(A) order."""
    assert url.startswith('data:image/png;base64,'), url[:40]
    data = base64.b64decode(url.split(',', 1)[1])
    if depth == 8:
        return np.asarray(Image.open(io.BytesIO(data)))
    # Pillow reads 16-bit colour PNGs as 8 bit; OpenCV keeps 16.
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8),
                          cv2.IMREAD_UNCHANGED)
    return pixels[..., [2, 1, 0, 3][:pixels.shape[2]]]


class Server:
    """tools/serve.py in a subprocess; its URL and temporary folder.

    Starting returns at once (the browser starts meanwhile); :attr:`url`
    waits for the line where the tool prints its address.
    """

    def __init__(self, weights, tmp_dir):
        self.tmp_dir = str(tmp_dir)
        env = dict(os.environ, PYTHONPATH=REPO, PYTHONUNBUFFERED='1')
        self.process = subprocess.Popen(
            [sys.executable, 'tools/serve.py', str(weights), '--port', '0',
             '--max-pixels', str(MAX_PIXELS), '--max-bytes', str(MAX_BYTES),
             '--tmp-dir', self.tmp_dir],
            cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.output = []
        self._lines = queue.Queue()
        self._url = None
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):  # keep reading so the pipe never fills up
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``, once the server listens."""
        deadline = time.monotonic() + 180
        while self._url is None:
            try:
                line = self._lines.get(
                    timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise AssertionError('tools/serve.py did not start:\n' +
                                     ''.join(self.output))
            if line.startswith('Serving on '):
                self._url = line.split()[2]
        return self._url

    def alive(self) -> bool:
        """The process runs and answers /api/info."""
        if self.process.poll() is not None:
            return False
        with urllib.request.urlopen(self.url + 'api/info', timeout=WAIT) as r:
            return r.status == 200

    def leftovers(self) -> list:
        """Files under the server's temporary folder (should be none)."""
        return [osp.join(root, f) for root, _, files in os.walk(self.tmp_dir)
                for f in files]

    def stop(self) -> int:
        """Ctrl+C, as a user would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
