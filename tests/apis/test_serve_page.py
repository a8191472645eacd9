"""The web page of tools/serve.py, driven in a real headless Chromium.

One server (the real tool, in a subprocess, on a free local port) and one
browser serve every test of this module. The model is tiny, with random
weights, saved in a format ``Translator.from_file`` loads. The screenshot of
a translated upload is kept in ``work_dirs/test_serve_page/`` (printed).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them when missing); without them the module is skipped and says so.
"""
import base64
import json
import os
import os.path as osp
import shutil
import tempfile
import threading
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.apis.serve_fixtures import (
    MAX_BYTES,
    WAIT,
    Server,
    data_url_pixels,
    write_png,
)
from tests.helpers import REPO

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
if not (osp.exists(CHROMIUM) and osp.exists(CHROMEDRIVER)):
    pytest.skip(
        'Chromium and chromedriver are not installed, so the browser test '
        'of the web page cannot run (.ci/run installs them; by hand: '
        'apt-get install chromium chromium-driver)',
        allow_module_level=True)
webdriver = pytest.importorskip(
    'selenium.webdriver', reason='selenium is missing: pip install -r '
    'requirements/tests.txt')
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--window-size=1200,900')
ARTIFACTS = osp.join(REPO, 'work_dirs', 'test_serve_page')


# A tiny generator for both directions, random weights: the page must show
# what the inference layer computes, whatever the weights.
TINY_GENERATOR = dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                      base_channels=8, num_blocks=1,
                      upsample_mode='resize_conv')
TINY_ITERATIONS = 7


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """A checkpoint laid out as tools/train.py saves one (config text,
    iteration and domain names in ``meta``), with random weights."""
    import torch

    from mm_cyclegan.registry import MODELS
    torch.manual_seed(0)
    state_dict = {}
    for name in ('generator_a2b', 'generator_b2a'):
        network = MODELS.build(TINY_GENERATOR)
        state_dict.update({f'{name}.{key}': value for key, value in
                           network.state_dict().items()})
    meta = dict(
        cfg=f"model = dict(type='CycleGAN', generator_a2b={TINY_GENERATOR})",
        iter=TINY_ITERATIONS,
        dataset_meta=dict(domain_a='photo', domain_b='anime'))
    path = tmp_path_factory.mktemp('weights') / f'iter_{TINY_ITERATIONS}.pth'
    torch.save(dict(meta=meta, state_dict=state_dict), path)
    return path


@pytest.fixture(scope='module')
def translator(weights):
    """The inference layer on the same weights, in this process."""
    from mm_cyclegan.apis import Translator
    return Translator.from_file(str(weights), direction='a2b', device='cpu')


@pytest.fixture(scope='module')
def server(weights, tmp_path_factory):
    tmp_dir = tmp_path_factory.mktemp('server_tmp')
    srv = Server(weights, tmp_dir)
    yield srv
    code = srv.stop()
    assert code == 0, ''.join(srv.output)
    # The server's own temporary folder is gone with it.
    assert os.listdir(tmp_dir) == [], os.listdir(tmp_dir)


@pytest.fixture(scope='module')
def downloads(tmp_path_factory):
    """Where the browser saves downloads."""
    return tmp_path_factory.mktemp('downloads')


@pytest.fixture(scope='module')
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix='chromium-profile-')
    options.add_argument(f'--user-data-dir={profile}')
    options.add_experimental_option(
        'prefs', {'download.default_directory': str(downloads),
                  'download.prompt_for_download': False})
    driver = webdriver.Chrome(options=options,
                              service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(server, browser):
    """The page, freshly loaded and ready (server first: it starts slower,
    and the browser starts while it loads)."""
    browser.get(server.url)
    wait_for_state(browser, ('ready', ))
    return browser


def state(driver):
    return driver.execute_script('return document.body.dataset.state')


def wait_for_state(driver, states):
    WebDriverWait(driver, WAIT).until(lambda d: state(d) in states)
    return state(driver)


def upload(driver, path):
    driver.find_element(By.ID, 'file').send_keys(str(path))
    # The page goes 'busy' at once, then 'done' or 'error'.
    return wait_for_state(driver, ('done', 'error'))


def image_size(driver, element_id):
    return tuple(driver.execute_script(
        'const i = document.getElementById(arguments[0]);'
        'return [i.naturalWidth, i.naturalHeight];', element_id))


def test_upload_shows_input_translation_and_reconstruction(
        page, server, weights, translator, tmp_path, record_property):
    # A landscape 'photo' of odd size: the generator pads it to its
    # multiple and crops back.
    from mm_cyclegan.datasets.procedural import make_scene, render_photo
    pixels = render_photo(make_scene(3), (75, 101))
    Image.fromarray(pixels).save(tmp_path / 'photo.png')
    assert upload(page, tmp_path / 'photo.png') == 'done'
    for element in ('input-img', 'output-img', 'reconstruction-img'):
        assert image_size(page, element) == (101, 75), element
    assert page.find_element(By.ID, 'reconstruction').is_displayed()
    assert not page.find_element(By.ID, 'message').is_displayed()

    # The page shows what the inference layer computes on these pixels.
    expected = translator(pixels)
    shown = data_url_pixels(
        page.find_element(By.ID, 'output-img').get_attribute('src'))
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1
    np.testing.assert_array_equal(
        data_url_pixels(
            page.find_element(By.ID, 'input-img').get_attribute('src')),
        pixels)

    download = page.find_element(By.ID, 'download')
    assert download.get_attribute('download') == 'photo_a2b.png'
    assert download.get_attribute('href') == page.find_element(
        By.ID, 'output-img').get_attribute('src')
    assert 'translated in' in page.find_element(By.ID, 'time').text
    info = page.find_element(By.ID, 'model-info').text
    assert f'trained {TINY_ITERATIONS} iterations' in info
    assert 'ResnetGenerator' in info and weights.name in info

    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = osp.join(ARTIFACTS, 'translated_upload.png')
    assert page.save_screenshot(shot)
    record_property('screenshot', shot)
    print(f'screenshot of the page: {shot}')
    assert server.leftovers() == []


def test_direction_choice_translates_the_other_way(page, tmp_path):
    write_png(tmp_path / 'anime.png', 32, 40, seed=2)
    assert upload(page, tmp_path / 'anime.png') == 'done'
    a2b = page.find_element(By.ID, 'output-img').get_attribute('src')
    options = [o.get_attribute('value') for o in page.find_elements(
        By.CSS_SELECTOR, '#direction option')]
    assert options == ['a2b', 'b2a']  # both generators are in the weights
    page.execute_script(
        "const s = document.getElementById('direction');"
        "s.value = 'b2a'; s.dispatchEvent(new Event('change'));")
    assert wait_for_state(page, ('done', 'error')) == 'done'
    assert page.find_element(By.ID, 'direction-caption').text == (
        '(anime → photo)')
    assert page.find_element(By.ID, 'output-img').get_attribute('src') != a2b
    assert page.find_element(By.ID, 'download').get_attribute(
        'download') == 'anime_b2a.png'


def test_demo_button_translates_a_procedural_landscape(page):
    page.find_element(By.ID, 'demo').click()
    WebDriverWait(page, WAIT).until(
        lambda d: state(d) in ('done', 'error') and d.find_element(
            By.ID, 'download').get_attribute('download').startswith(
                'demo_landscape_'))
    assert state(page) == 'done'
    assert image_size(page, 'input-img') == (256, 192)
    assert image_size(page, 'output-img') == (256, 192)


def test_dropped_file_is_translated_and_downloads_as_shown(page, downloads,
                                                          tmp_path):
    pixels = write_png(tmp_path / 'dropped.png', 30, 44, seed=5)
    # What the browser hands the page when a file is dropped on the zone.
    page.execute_script(
        """const bytes = Uint8Array.from(atob(arguments[0]),
                                         (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png',
                                    {type: 'image/png'}));
        document.getElementById('drop').dispatchEvent(new DragEvent(
            'drop', {dataTransfer: transfer, bubbles: true,
                     cancelable: true}));""",
        base64.b64encode((tmp_path / 'dropped.png').read_bytes()).decode())
    assert wait_for_state(page, ('done', 'error')) == 'done'
    np.testing.assert_array_equal(
        data_url_pixels(
            page.find_element(By.ID, 'input-img').get_attribute('src')),
        pixels)
    shown = data_url_pixels(
        page.find_element(By.ID, 'output-img').get_attribute('src'))
    page.find_element(By.ID, 'download').click()
    target = downloads / 'dropped_a2b.png'
    WebDriverWait(page, WAIT).until(lambda _: target.exists())
    WebDriverWait(page, WAIT).until(
        lambda _: not list(downloads.glob('*.crdownload')))
    np.testing.assert_array_equal(np.asarray(Image.open(target)), shown)


def _bad_text(path):
    path.write_text('this is not an image\n')


def _bad_empty(path):
    path.write_bytes(b'')


def _bad_pixels(path):  # small file, too many pixels
    write_png(path, 250, 300, noise=False)
    assert path.stat().st_size < MAX_BYTES


def _bad_bytes(path):  # noise does not compress: too many bytes
    write_png(path, 300, 300, noise=True)
    assert path.stat().st_size > MAX_BYTES


@pytest.mark.parametrize('make, words', [
    (_bad_text, 'not a recognised image format'),
    (_bad_empty, 'empty'),
    (_bad_pixels, '300x250 = 75000 pixels exceeds'),
    (_bad_bytes, 'too large'),
], ids=['text', 'zero-bytes', 'too-many-pixels', 'too-many-bytes'])
def test_bad_upload_shows_a_message_and_the_server_stays_up(
        page, server, tmp_path, make, words):
    path = tmp_path / 'upload.png'
    make(path)
    assert upload(page, path) == 'error'
    message = page.find_element(By.ID, 'message')
    assert message.is_displayed() and words in message.text
    assert not page.find_element(By.ID, 'results').is_displayed()
    assert server.alive()
    assert server.leftovers() == []
    # The same page still translates a good image afterwards.
    write_png(tmp_path / 'good.png', 24, 24)
    assert upload(page, tmp_path / 'good.png') == 'done'
    assert not message.is_displayed()


def _post(url, path, results, index, barrier):
    request = urllib.request.Request(
        url + 'api/translate?direction=a2b&reconstruct=1',
        data=path.read_bytes(), method='POST')
    barrier.wait()
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            results[index] = (response.status, json.load(response))
    except urllib.error.HTTPError as err:
        results[index] = (err.code, json.load(err))


def test_two_concurrent_requests_each_get_their_own_result(server,
                                                           tmp_path):
    sizes = [(40, 64), (72, 24)]
    paths = []
    for k, (height, width) in enumerate(sizes):
        paths.append(tmp_path / f'in{k}.png')
        write_png(paths[-1], height, width, seed=10 + k)
    results = [None, None]
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_post,
                                args=(server.url, p, results, k, barrier))
               for k, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    for (height, width), path, (status, answer) in zip(sizes, paths,
                                                       results):
        assert status == 200, answer
        assert (answer['height'], answer['width']) == (height, width)
        assert data_url_pixels(answer['output']).shape == (height, width, 3)
        assert data_url_pixels(
            answer['reconstruction']).shape == (height, width, 3)
        np.testing.assert_array_equal(data_url_pixels(answer['input']),
                                      np.asarray(Image.open(path)))
    assert server.leftovers() == []


def test_sixteen_bit_rgba_upload_keeps_depth_and_alpha(server, translator,
                                                      tmp_path):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 65536, (20, 28, 4), np.uint16)
    path = tmp_path / 'deep.png'
    cv2.imwrite(str(path), pixels[..., [2, 1, 0, 3]])  # OpenCV is BGRA
    results = [None]
    _post(server.url, path, results, 0, threading.Barrier(1))
    status, answer = results[0]
    assert status == 200, answer
    output = data_url_pixels(answer['output'], depth=16)
    assert output.dtype == np.uint16 and output.shape == (20, 28, 4)
    np.testing.assert_array_equal(output[..., 3], pixels[..., 3])
    expected = translator(pixels)
    assert np.abs(output.astype(int) - expected.astype(int)).max() <= 257


def test_binds_loopback_by_default_and_answers_only_local_names(server):
    # tools/serve.py was started without --host.
    assert server.url.startswith('http://127.0.0.1:')
    port = server.url.rsplit(':', 1)[1].rstrip('/')
    for host, status in [(f'localhost:{port}', 200),
                         (f'127.0.0.1:{port}', 200),
                         # a DNS-rebinding page reaches us under its name
                         (f'attacker.example:{port}', 400)]:
        request = urllib.request.Request(server.url + 'api/info',
                                         headers={'Host': host})
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                code = response.status
        except urllib.error.HTTPError as err:
            code = err.code
        assert code == status, host
