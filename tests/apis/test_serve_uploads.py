"""Upload checks of the web page, without a web server.

Each test writes real files/bytes and checks what the page would answer:
the message, the HTTP status, and that nothing is left in the server's
temporary folder.
"""
import importlib.util
import io
import os
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from mm_cyclegan.apis.deploy.serve import (
    INSTALL_HINT,
    MissingServeExtra,
    UploadLimits,
    UploadRejected,
    decode_upload,
    require_web_stack,
)


def png_bytes(height, width, channels=3, seed=0):
    """A random RGB(A) PNG of the given size, as bytes."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, channels), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format='PNG')
    return pixels, buffer.getvalue()


def _chunk(kind, data):
    body = kind + data
    return (struct.pack('>I', len(data)) + body
            + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF))


def bomb_png(side):
    """A valid 1-bit gray PNG of side x side zeros: ~side^2/8 bytes of
    pixels compressed to a few kB (a decompression bomb)."""
    compressor = zlib.compressobj(9)
    row = b'\0' * (1 + (side + 7) // 8)  # filter byte + packed bits
    data = b''.join(compressor.compress(row) for _ in range(side))
    data += compressor.flush()
    header = struct.pack('>IIBBBBB', side, side, 1, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', header)
            + _chunk(b'IDAT', data) + _chunk(b'IEND', b''))


TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                    'tools', 'serve.py')


def load_tool():
    """tools/serve.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location('serve_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tmp_root(tmp_path):
    root = tmp_path / 'server_tmp'
    root.mkdir()
    return root


def assert_nothing_left(root):
    assert list(os.scandir(root)) == [], 'an upload was left on disk'


def test_a_png_within_limits_decodes_to_its_pixels(tmp_root):
    pixels, data = png_bytes(24, 40, channels=4)
    decoded, max_value = decode_upload(data, UploadLimits(), str(tmp_root))
    assert max_value == 255
    np.testing.assert_array_equal(decoded, pixels)
    assert_nothing_left(tmp_root)


@pytest.mark.parametrize('data, status, words', [
    (b'', 400, 'empty'),
    (b'hello, this is text\n', 422, 'not a recognised image format'),
    (b'\x89PNG\r\n\x1a\n' + b'\0' * 40, 422, 'cannot be translated'),
])
def test_not_an_image_is_refused_with_a_message(tmp_root, data, status,
                                                words):
    with pytest.raises(UploadRejected) as info:
        decode_upload(data, UploadLimits(), str(tmp_root))
    assert info.value.status == status
    assert words in info.value.message
    assert str(tmp_root) not in info.value.message  # no server paths
    assert_nothing_left(tmp_root)


def test_too_many_bytes_is_refused_before_decoding(tmp_root):
    _, data = png_bytes(32, 32)
    limits = UploadLimits(max_bytes=len(data) - 1)
    with pytest.raises(UploadRejected) as info:
        decode_upload(data, limits, str(tmp_root))
    assert info.value.status == 413
    assert f'{len(data) - 1:,} bytes' in info.value.message
    assert_nothing_left(tmp_root)


def test_too_many_pixels_is_refused_and_names_the_limit(tmp_root):
    _, data = png_bytes(100, 101)
    limits = UploadLimits(max_pixels=100 * 100)
    with pytest.raises(UploadRejected) as info:
        decode_upload(data, limits, str(tmp_root))
    assert info.value.status == 422
    assert '101x100' in info.value.message
    assert '10,000 pixels' in info.value.message
    assert_nothing_left(tmp_root)
    # One pixel fewer passes: the limit is inclusive and exact.
    _, data = png_bytes(100, 100)
    decoded, _ = decode_upload(data, limits, str(tmp_root))
    assert decoded.shape == (100, 100, 3)


@pytest.mark.parametrize('side', [
    5000,  # 25 Mpx: above our default limit (16.8 Mpx), below Pillow's
    14000,  # 196 Mpx: above Pillow's own bomb limit (2 x 89.5 Mpx) too
])
def test_decompression_bomb_is_refused_from_its_header(tmp_root, side):
    data = bomb_png(side)
    assert len(data) < 200_000
    with pytest.raises(UploadRejected) as info:
        decode_upload(data, UploadLimits(), str(tmp_root))
    assert 'decompression bomb' in info.value.message
    assert_nothing_left(tmp_root)


@pytest.mark.parametrize('kwargs', [
    dict(max_bytes=0), dict(max_pixels=-5), dict(max_pixels=True),
    dict(max_bytes=1.5)
])
def test_limits_must_be_positive_integers(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        UploadLimits(**kwargs)


def test_missing_web_stack_names_the_install_command(monkeypatch, capsys):
    require_web_stack()  # installed here: no error
    # A None entry in sys.modules makes `import starlette` fail.
    monkeypatch.setitem(sys.modules, 'starlette', None)
    with pytest.raises(MissingServeExtra, match='starlette') as info:
        require_web_stack()
    assert INSTALL_HINT in str(info.value)
    # The tool prints the same message and exits 2, before loading weights.
    assert load_tool().main(['no_such_weights.pth']) == 2
    assert INSTALL_HINT in capsys.readouterr().err


def test_tool_reports_unusable_weights_in_one_line(tmp_path, capsys):
    missing = tmp_path / 'missing.pth'
    assert load_tool().main([str(missing), '--port', '0']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and str(missing) in err
    assert 'Traceback' not in err
    not_weights = tmp_path / 'notes.txt'
    not_weights.write_text('not weights')
    assert load_tool().main([str(not_weights), '--port', '0']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and str(not_weights) in err
    assert 'Traceback' not in err
    assert load_tool().main([str(missing), '--max-pixels', '0']) == 2
    assert 'max_pixels must be a positive integer' in capsys.readouterr().err
