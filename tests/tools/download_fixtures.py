"""Shared pieces of the download tests: generated zip bombs, the leftover
check, a quiet request handler (the ``server`` fixture is in conftest)."""
import http.server
import os
import zipfile
from pathlib import Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


def leftovers(root):
    return [p for p in os.listdir(root) if p.startswith('.')]


def make_bomb(path, size=401 * 1024**2, members=1, prefix='toy/trainA/',
              level=6):
    """Zeros deflate ~1000x (level 6: 408 KB for 401 MB; level 1, 4x
    faster to make: 1.8 MB)."""
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED,
                         compresslevel=level) as zf:
        for k in range(members):
            with zf.open(f'{prefix}zeros{k}.png', 'w') as out:
                for _ in range(size // members // len(block)):
                    out.write(block)
    return Path(path).stat().st_size
