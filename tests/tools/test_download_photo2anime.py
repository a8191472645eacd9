"""``download_dataset.py photo2anime`` against a local HTTP server serving a
zip with the AnimeGAN archive's layout (tiny generated images, file names
as in the real archive), no internet."""
import io
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mm_cyclegan.datasets import anime_layout
from mm_cyclegan.datasets.download import (
    DownloadError,
    dataset_url,
    download_dataset,
)
from mm_cyclegan.datasets.download_cli import main
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from tests.tools.download_fixtures import leftovers

# Names of the real archive: numbered style frames ('<n>.jpg', Shinkai
# '<n>_<k>.jpg'), numbered test photos; train photos with spaces as in
# AnimeGAN's own photo examples.
STYLE_NAMES = {
    'Hayao': [f'{n}.jpg' for n in range(25)],
    'Shinkai': [f'{n}_{k}.jpg' for n in (100, 102) for k in (3, 6)],
    'Paprika': [f'{n}.jpg' for n in (1, 2, 3)],
}
TRAIN_PHOTOS = [f' {n}.jpg' for n in (5, 44, 120)] + ['2013-11-08 16.jpg']
TEST_PHOTOS = [f'{n}.jpg' for n in (1, 10, 100)]


def jpeg(seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8, 3),
                                                  dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format='JPEG')
    return buffer.getvalue()


def make_anime_zip(path, top='', extra=None, drop=()):
    """The AnimeGAN layout under ``top`` ('' or 'dataset/')."""
    files = {f'train_photo/{n}': 0 for n in TRAIN_PHOTOS}
    files.update({f'test/test_photo/{n}': 1 for n in TEST_PHOTOS})
    files.update({f'test/real/{n}': 2 for n in ('1.jpg', '2.jpg')})
    for style, names in STYLE_NAMES.items():
        for sub in ('style', 'smooth'):
            files.update({f'{style}/{sub}/{n}': 3 for n in names})
    with zipfile.ZipFile(path, 'w') as zf:
        for k, (name, _) in enumerate(sorted(files.items())):
            if not name.startswith(drop) or not drop:
                zf.writestr(top + name, jpeg(k))
        for name, data in (extra or {}).items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b'/etc/passwd')
            else:
                zf.writestr(name, data)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_known_name_points_at_the_animegan_release():
    assert dataset_url('photo2anime') == (
        'https://github.com/TachibanaYoshino/AnimeGAN/releases/download/'
        'dataset-1/dataset.zip')


def test_style_frames_split_every_tenth_sorted():
    train, test = anime_layout.split_style_frames(
        [f'{n}.jpg' for n in range(25)])
    # Sorted as strings: 0, 1, 10, ..., 19, 2, 20, ..., 24, 3, 4, 5, ...
    assert test == ['0.jpg', '18.jpg', '5.jpg']
    assert len(train) == 22 and not set(train) & set(test)


@pytest.mark.parametrize('top', ['', 'dataset/'])
def test_hayao_layout(server, tmp_path, top):
    served, base = server
    make_anime_zip(served / 'dataset.zip', top=top)
    root = tmp_path / 'data'
    folder = Path(download_dataset('photo2anime', root=str(root),
                                   url=f'{base}/dataset.zip',
                                   progress=False))
    assert folder == root / 'photo2anime'
    assert names(folder / 'trainA') == sorted(TRAIN_PHOTOS)
    assert names(folder / 'testA') == sorted(TEST_PHOTOS)
    train_b, test_b = names(folder / 'trainB'), names(folder / 'testB')
    assert sorted(train_b + test_b) == sorted(STYLE_NAMES['Hayao'])
    assert test_b == sorted(STYLE_NAMES['Hayao'])[::10]
    assert not set(train_b) & set(test_b)
    # test/real, smooth/ and the other styles are not kept.
    assert sorted(p.name for p in folder.iterdir()) == [
        'LICENSE.txt', 'README.txt', 'testA', 'testB', 'trainA', 'trainB']
    licence = (folder / 'LICENSE.txt').read_text()
    assert 'non-commercial' in licence and anime_layout.URL in licence
    assert 'every 10th' in (folder / 'README.txt').read_text()
    assert leftovers(root) == []
    ds = UnpairedImageDataset(str(folder), load_size=8, crop_size=8)
    assert len(ds) == len(train_b)


def test_other_style_and_cli_prints_licence(server, tmp_path, capsys):  # noqa: E501
    served, base = server
    make_anime_zip(served / 'dataset.zip')
    assert main(['photo2anime', '--style', 'shinkai', '--root',
                 str(tmp_path), '--url', f'{base}/dataset.zip',
                 '--no-progress']) == 0
    out = capsys.readouterr().out
    assert anime_layout.LICENSE in out
    assert 'cannot be checked from here' in out
    assert 'sha256 of the downloaded archive' in out
    folder = tmp_path / 'photo2anime'
    got = names(folder / 'trainB') + names(folder / 'testB')
    assert sorted(got) == sorted(STYLE_NAMES['Shinkai'])


def test_sha256_is_checked(server, tmp_path):
    served, base = server
    make_anime_zip(served / 'dataset.zip')
    with pytest.raises(DownloadError, match='sha256 mismatch'):
        download_dataset('photo2anime', root=str(tmp_path),
                         url=f'{base}/dataset.zip', sha256='a' * 64,
                         progress=False)
    assert leftovers(tmp_path) == [] and not (tmp_path / 'photo2anime')\
        .exists()


def test_bad_style_and_style_for_other_sets(tmp_path):
    with pytest.raises(ValueError, match="'ghibli'"):
        download_dataset('photo2anime', root=str(tmp_path), style='ghibli')
    with pytest.raises(ValueError, match='horse2zebra'):
        download_dataset('horse2zebra', root=str(tmp_path), style='hayao')
    with pytest.raises(SystemExit):
        main(['photo2anime', '--style', 'ghibli'])


def test_truncated_archive_is_refused(server, tmp_path):
    served, base = server
    make_anime_zip(served / 'full.zip')
    data = (served / 'full.zip').read_bytes()
    (served / 'dataset.zip').write_bytes(data[:len(data) // 2])
    with pytest.raises(DownloadError, match='not a valid zip'):
        download_dataset('photo2anime', root=str(tmp_path),
                         url=f'{base}/dataset.zip', progress=False)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / 'photo2anime').exists()


def test_archive_without_the_layout_is_refused(server, tmp_path):  # noqa: E501
    served, base = server
    make_anime_zip(served / 'dataset.zip', drop=('Hayao/style', ))
    with pytest.raises(DownloadError, match='Hayao/style'):
        download_dataset('photo2anime', root=str(tmp_path),
                         url=f'{base}/dataset.zip', progress=False)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / 'photo2anime').exists()


def symlink_member(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize('extra, match', [
    ({'../escape.jpg': b'x'}, 'unsafe'),
    ({'/tmp/escape.jpg': b'x'}, 'unsafe'),
    ({'train_photo/link.jpg': symlink_member('train_photo/link.jpg')},
     'symbolic link'),
])
def test_malicious_archive_is_refused(server, tmp_path, extra, match):  # noqa: E501
    served, base = server
    make_anime_zip(served / 'dataset.zip', extra=extra)
    root = tmp_path / 'data'
    with pytest.raises(DownloadError, match=match):
        download_dataset('photo2anime', root=str(root),
                         url=f'{base}/dataset.zip', progress=False)
    assert not list(tmp_path.rglob('escape.jpg'))
    assert not (root / 'photo2anime').exists() and leftovers(root) == []


def test_bomb_is_refused(server, tmp_path, bomb_zip):
    served, base = server
    shutil.copy(bomb_zip, served / 'dataset.zip')
    with pytest.raises(DownloadError, match='zip bomb|max_member_bytes'):
        download_dataset('photo2anime', root=str(tmp_path),
                         url=f'{base}/dataset.zip', progress=False)
    assert leftovers(tmp_path) == []
    assert not (tmp_path / 'photo2anime').exists()


@pytest.mark.parametrize('config', [
    'configs/cyclegan_anime.py',
    'configs/cyclegan_resnet6-ngf32-lsgan_1xb1-3k_photo2anime-96px.py'])
def test_anime_configs_without_data_name_a_command_that_works(
        server, tmp_path, monkeypatch, config):
    from mmengine.config import Config

    from mm_cyclegan.engine.preflight import preflight_data
    served, base = server
    make_anime_zip(served / 'dataset.zip')
    monkeypatch.chdir(tmp_path)  # the recipes use the relative data/...
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(str(repo / config))
    message = preflight_data(cfg)
    command = next(line for line in message.splitlines()
                   if 'download_dataset.py' in line)
    argv = command.split('download_dataset.py ', 1)[1].split(' [')[0]
    assert argv.split()[0] == 'photo2anime'
    # The same command, served locally instead of from GitHub.
    assert main(argv.split() + ['--url', f'{base}/dataset.zip',
                                '--no-progress']) == 0
    assert preflight_data(cfg) is None
    root = Path(cfg.train_dataloader.dataset.data_root)
    assert all((root / sub).is_dir() for sub in ('testA', 'testB'))
