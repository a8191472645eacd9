"""tools/download_dataset.py against a local HTTP server (no internet)."""
import hashlib
import http.server
import io
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mm_cyclegan.datasets import download, download_cli, zip_extract
from mm_cyclegan.datasets.download import (
    DownloadError,
    dataset_url,
    download_dataset,
)
from mm_cyclegan.datasets.download_cli import main
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from tests.tools.download_fixtures import QuietHandler, leftovers, make_bomb

REPO = Path(__file__).resolve().parents[2]
LAYOUT = ('trainA', 'trainB', 'testA', 'testB')


def png_bytes(seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8, 3),
                                                  dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format='PNG')
    return buffer.getvalue()


def make_zip(path, prefix='toy/', extra=None):
    with zipfile.ZipFile(path, 'w') as zf:
        for k, folder in enumerate(LAYOUT):
            for j in range(2):
                zf.writestr(f'{prefix}{folder}/img {j}.png',
                            png_bytes(10 * k + j))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ShortBodyHandler(QuietHandler):
    """Announces more bytes than it sends, then closes the connection."""

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', '5000')
        self.end_headers()
        self.wfile.write(b'PK\x03\x04' + b'\0' * 100)
        self.close_connection = True


def test_known_names_map_to_the_official_urls():
    assert dataset_url('horse2zebra') == (
        'https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/'
        'horse2zebra.zip')
    for name in ('apple2orange', 'summer2winter_yosemite', 'monet2photo',
                 'cezanne2photo', 'ukiyoe2photo', 'vangogh2photo', 'maps',
                 'cityscapes', 'facades', 'iphone2dslr_flower', 'ae_photos'):
        assert dataset_url(name).endswith(f'/{name}.zip')


def test_unknown_name_lists_known_ones(tmp_path):
    with pytest.raises(ValueError, match='horse2zeebra') as info:
        download_dataset('horse2zeebra', root=str(tmp_path))
    assert 'horse2zebra' in str(info.value).split('known:')[1]


def test_download_verifies_and_unpacks_into_root_name(server, tmp_path):
    served, base = server
    sha = make_zip(served / 'toy.zip')
    root = tmp_path / 'data'
    folder = download_dataset('toy', root=str(root), url=f'{base}/toy.zip',
                              sha256=sha.upper(), progress=False)
    assert Path(folder) == root / 'toy'
    for sub in LAYOUT:
        assert len(list((root / 'toy' / sub).iterdir())) == 2
    assert leftovers(root) == []  # temporary folder removed
    ds = UnpairedImageDataset(folder, load_size=8, crop_size=8)
    assert len(ds) == 2 and ds[0]['img_a'].shape == (3, 8, 8)


def test_archive_without_top_folder_also_works(server, tmp_path):
    served, base = server
    make_zip(served / 'flat.zip', prefix='')
    folder = download_dataset('flat', root=str(tmp_path),
                              url=f'{base}/flat.zip', progress=False)
    assert all((Path(folder) / sub).is_dir() for sub in LAYOUT)


def test_checksum_mismatch_leaves_nothing_behind(server, tmp_path):
    served, base = server
    make_zip(served / 'toy.zip')
    with pytest.raises(DownloadError, match='sha256 mismatch'):
        download_dataset('toy', root=str(tmp_path), url=f'{base}/toy.zip',
                         sha256='0' * 64, progress=False)
    assert not (tmp_path / 'toy').exists()
    assert leftovers(tmp_path) == []


def test_known_size_and_checksum_are_checked(server, tmp_path, monkeypatch):
    served, base = server
    sha = make_zip(served / 'horse2zebra.zip')
    size = (served / 'horse2zebra.zip').stat().st_size
    monkeypatch.setattr(download, 'URL_TEMPLATE', base + '/{}.zip')
    monkeypatch.setitem(download.KNOWN_ARCHIVES, 'horse2zebra',
                        (size + 1, sha))
    with pytest.raises(DownloadError, match='size mismatch'):
        download_dataset('horse2zebra', root=str(tmp_path), progress=False)
    monkeypatch.setitem(download.KNOWN_ARCHIVES, 'horse2zebra',
                        (size, 'f' * 64))
    with pytest.raises(DownloadError, match='sha256 mismatch'):
        download_dataset('horse2zebra', root=str(tmp_path), progress=False)
    monkeypatch.setitem(download.KNOWN_ARCHIVES, 'horse2zebra', (size, sha))
    download_dataset('horse2zebra', root=str(tmp_path), progress=False)
    assert (tmp_path / 'horse2zebra' / 'trainA').is_dir()


def test_http_error_is_reported(server, tmp_path):
    _, base = server
    with pytest.raises(DownloadError, match='404'):
        download_dataset('toy', root=str(tmp_path),
                         url=f'{base}/missing.zip', progress=False)
    assert leftovers(tmp_path) == []


def test_unreachable_host_is_reported(tmp_path):
    with pytest.raises(DownloadError, match='cannot reach'):
        # Port 1 on the loopback interface: connection refused at once.
        download_dataset('toy', root=str(tmp_path),
                         url='http://127.0.0.1:1/x.zip', progress=False)


def test_short_body_is_a_size_error(tmp_path):
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                            ShortBodyHandler)
    threading.Thread(target=httpd.serve_forever, args=(0.05, ),
                     daemon=True).start()
    try:
        url = f'http://127.0.0.1:{httpd.server_address[1]}/toy.zip'
        with pytest.raises(DownloadError, match='5000'):
            download_dataset('toy', root=str(tmp_path), url=url,
                             progress=False)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert not (tmp_path / 'toy').exists()


@pytest.mark.parametrize('member', ['../escape.txt', '/abs/escape.txt',
                                    'toy/../../escape.txt'])
def test_members_escaping_the_target_are_refused(server, tmp_path, member):
    served, base = server
    make_zip(served / 'evil.zip', extra={member: b'gotcha'})
    root = tmp_path / 'data'
    with pytest.raises(DownloadError, match='unsafe'):
        download_dataset('evil', root=str(root), url=f'{base}/evil.zip',
                         progress=False)
    assert not list(tmp_path.rglob('escape.txt'))
    assert not (root / 'evil').exists()


def test_not_a_zip_is_reported(server, tmp_path):
    served, base = server
    (served / 'page.zip').write_text('<html>moved</html>')
    with pytest.raises(DownloadError, match='not a valid zip'):
        download_dataset('page', root=str(tmp_path),
                         url=f'{base}/page.zip', progress=False)


def test_existing_folder_needs_force(server, tmp_path):
    served, base = server
    make_zip(served / 'toy.zip')
    old = tmp_path / 'toy'
    old.mkdir()
    (old / 'stale.txt').write_text('old')
    url = f'{base}/toy.zip'
    with pytest.raises(FileExistsError, match='--force'):
        download_dataset('toy', root=str(tmp_path), url=url, progress=False)
    assert (old / 'stale.txt').exists()
    download_dataset('toy', root=str(tmp_path), url=url, force=True,
                     progress=False)
    assert not (old / 'stale.txt').exists()
    assert (old / 'trainA').is_dir()
    assert leftovers(tmp_path) == []


def test_bad_checksum_format_is_named(tmp_path):
    with pytest.raises(ValueError, match='xyz'):
        download_dataset('toy', root=str(tmp_path), url='http://x/y.zip',
                         sha256='xyz')


def test_main_reports_errors_with_exit_status(tmp_path, capsys):
    assert main(['nosuchset', '--root', str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert 'nosuchset' in err and 'horse2zebra' in err


def test_command_line_tool_downloads(server, tmp_path):
    served, base = server
    sha = make_zip(served / 'toy.zip')
    result = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'download_dataset.py'), 'toy',
         '--root', str(tmp_path / 'data'), '--url', f'{base}/toy.zip',
         '--sha256', sha, '--no-progress'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'data' / 'toy' / 'testB').is_dir()


# --- Extraction caps (zip bombs) -------------------------------------------


def test_a_zip_bomb_is_refused_before_anything_is_written(server, tmp_path,
                                                          bomb_zip):
    served, base = server
    shutil.copy(bomb_zip, served / 'bomb.zip')
    assert bomb_zip.stat().st_size < 2 * 1024**2  # for 401 MB
    root = tmp_path / 'data'
    with pytest.raises(DownloadError, match='zip bomb|max_member_bytes'):
        download_dataset('bomb', root=str(root), url=f'{base}/bomb.zip',
                         progress=False)
    assert not (root / 'bomb').exists()
    assert leftovers(root) == []
    # Directly: refused from the central directory, nothing unpacked.
    target = tmp_path / 'target'
    with pytest.raises(DownloadError, match='zeros0.png'):
        zip_extract.safe_extract(str(served / 'bomb.zip'), str(target))
    assert [p for p in target.rglob('*') if p.is_file()] == []


@pytest.mark.parametrize('limit, match', [
    (dict(max_total_bytes=3 * 1024**2), 'max_total_bytes'),
    (dict(max_member_bytes=1024**2), 'max_member_bytes'),
    (dict(max_ratio=50.0), 'max_ratio=50'),
    (dict(max_members=2), 'max_members=2'),
])
def test_each_cap_refuses_and_names_itself(tmp_path, limit, match):
    # 4 members of 2 MiB zeros: 8 MiB in total, ratio ~1000.
    archive = tmp_path / 'many.zip'
    make_bomb(archive, size=8 * 1024**2, members=4)
    loose = zip_extract.ExtractLimits(max_total_bytes=None,
                                   max_member_bytes=None, max_ratio=None,
                                   max_members=None)
    zip_extract.safe_extract(str(archive), str(tmp_path / 'ok'), loose)
    assert len(list((tmp_path / 'ok').rglob('zeros*.png'))) == 4
    target = tmp_path / 'refused'
    with pytest.raises(DownloadError, match=match):
        zip_extract.safe_extract(str(archive), str(target),
                              loose._replace(**limit))
    assert [p for p in target.rglob('*') if p.is_file()] == []


def test_default_caps_accept_real_looking_archives(server, tmp_path):
    # Images do not compress: a 2 MiB random "image" passes every cap.
    served, base = server
    make_zip(served / 'big.zip', extra={
        'toy/trainA/big.png': np.random.default_rng(0).bytes(2 * 1024**2)})
    folder = download_dataset('big', root=str(tmp_path),
                              url=f'{base}/big.zip', progress=False)
    assert (Path(folder) / 'trainA' / 'big.png').stat().st_size == 2 * 1024**2


def test_small_text_members_are_not_ratio_checked(tmp_path):
    archive = tmp_path / 'text.zip'
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('README.txt', ' ' * 100_000)  # ~1000x, but 100 kB
    zip_extract.safe_extract(str(archive), str(tmp_path / 'out'))
    assert (tmp_path / 'out' / 'README.txt').stat().st_size == 100_000


def test_parse_size_and_bad_limits():
    assert download_cli.parse_size('4096') == 4096
    assert download_cli.parse_size('256M') == 256 * 1024**2
    assert download_cli.parse_size('1.5GiB') == int(1.5 * 1024**3)
    with pytest.raises(ValueError, match='12Q'):
        download_cli.parse_size('12Q')
    with pytest.raises(ValueError, match='max_ratio'):
        zip_extract.safe_extract('x.zip', 'y',
                              zip_extract.ExtractLimits(max_ratio=-1))


def test_command_line_caps(server, tmp_path, capsys):
    served, base = server
    make_zip(served / 'toy.zip')
    url = f'{base}/toy.zip'
    args = ['toy', '--root', str(tmp_path), '--url', url, '--no-progress']
    assert main(args + ['--max-total-size', '100']) == 1
    assert 'max_total_bytes=100' in capsys.readouterr().err
    assert leftovers(tmp_path) == [] and not (tmp_path / 'toy').exists()
    with pytest.raises(SystemExit):
        main(args + ['--max-ratio', 'lots'])
    assert "'lots'" in capsys.readouterr().err
    assert main(args + ['--max-total-size', '1M', '--max-ratio',
                        'none']) == 0
    assert (tmp_path / 'toy' / 'trainB').is_dir()
