"""Fixtures of the tools tests."""
import functools
import http.server
import threading

import pytest

from tests.tools.download_fixtures import QuietHandler, make_bomb


@pytest.fixture
def server(tmp_path):
    served = tmp_path / 'served'
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05, ),
                              daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope='session')
def bomb_zip(tmp_path_factory):
    """One 401 MB-of-zeros member in a ~1.8 MB zip, made once."""
    path = tmp_path_factory.mktemp('bomb') / 'bomb.zip'
    make_bomb(path, level=1)
    return path
