"""Slim publishing and ONNX / TorchScript export with their parity checks."""
import hashlib
import json
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mm_cyclegan.apis import Translator
from mm_cyclegan.apis.deploy.export import export
from tests.apis.fixtures import write_checkpoint
from tests.helpers import REPO
from tools import export as export_tool
from tools import publish as publish_tool


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp('weights') / 'iter_7.pth'
    write_checkpoint(path)
    return str(path)


def _image(height=36, width=52, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_publish_keeps_generators_and_provenance(weights, tmp_path, capsys):
    out = tmp_path / 'release'
    assert publish_tool.main([weights, '--out', str(out)]) == 0
    assert 'model.safetensors' in capsys.readouterr().out
    meta = json.loads((out / 'model.json').read_text())
    digest = hashlib.sha256(open(weights, 'rb').read()).hexdigest()
    assert meta['source']['sha256'] == digest
    assert meta['domains'] == {'a': 'photo', 'b': 'anime'}
    assert meta['channels'] == {'a': 3, 'b': 3}
    assert meta['iterations'] == 7
    assert meta['generators']['a2b']['type'] == 'ResnetGenerator'
    assert '[-1, 1]' in meta['normalisation']
    from safetensors.torch import load_file
    keys = load_file(str(out / 'model.safetensors')).keys()
    assert keys and all(k.startswith(('generator_a2b.', 'generator_b2a.'))
                        for k in keys)
    original = Translator.from_file(weights, precision='fp32')
    image = _image()
    for path in (out, out / 'model.safetensors', out / 'model.json'):
        published = Translator.from_file(path, 'b2a', precision='fp32')
        assert published.info.kind == 'published'
        assert published.info.source_sha256 == digest
        assert published.info.iterations == 7
        assert np.array_equal(published(image), original(image, 'b2a'))
    # Never replaces a release silently.
    assert publish_tool.main([weights, '--out', str(out)]) == 2
    assert 'exists' in capsys.readouterr().err
    one = tmp_path / 'one'
    assert publish_tool.main([weights, '--out', str(one), '--direction',
                              'a2b']) == 0
    assert Translator.from_file(one).directions == ('a2b', )
    assert osp.getsize(one / 'model.safetensors') < osp.getsize(
        out / 'model.safetensors')


@pytest.fixture(scope='module')
def demo_weights(tmp_path_factory):
    """Weights shaped like the demo's (resize-conv upsampling)."""
    path = tmp_path_factory.mktemp('demo') / 'iter_9.pth'
    write_checkpoint(path, upsample_mode='resize_conv', seed=4)
    return str(path)


@pytest.fixture(scope='module')
def onnx_export(demo_weights, tmp_path_factory):
    """One ONNX export (the slow part), shared by the tests below."""
    out = tmp_path_factory.mktemp('onnx') / 'photo2anime.onnx'
    translator = Translator.from_file(demo_weights, precision='fp32')
    report = export(translator, str(out), 'onnx', direction='photo2anime')
    return out, report


def test_onnx_export_is_checked_on_two_sizes(demo_weights, onnx_export):
    import onnx
    import onnxruntime as ort
    out, report = onnx_export
    shapes = [shape for shape, _ in report]
    assert len(set(shapes)) == 2 and len({s[0] for s in shapes}) == 2
    assert max(diff for _, diff in report) <= 1e-4
    model = onnx.load(str(out))
    assert model.opset_import[0].version >= 17
    props = {p.key: p.value for p in model.metadata_props}
    assert props['direction'] == 'a2b'
    assert props['translation'] == 'photo -> anime'
    # Dynamic batch, height and width: a third, odd shape.
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    x = torch.rand(3, 3, 29, 71) * 2 - 1
    y = session.run(None, {'image': x.numpy()})[0]
    expected = Translator.from_file(demo_weights, precision='fp32')(x)
    assert y.shape == (3, 3, 29, 71)
    assert np.abs(y - expected.numpy()).max() <= 1e-4


def test_export_tool_fails_and_removes_the_file_when_parity_fails(
        weights, tmp_path, capsys):
    out = tmp_path / 'g.onnx'
    assert export_tool.main([weights, '--out', str(out), '--atol',
                             '1e-12']) == 1
    assert 'parity' in capsys.readouterr().err
    assert not out.exists()
    assert export_tool.main([str(tmp_path / 'missing.pth'), '--out',
                             str(out)]) == 2


def test_torchscript_export_loads_without_the_package(weights, tmp_path):
    out = tmp_path / 'g.pt'
    assert export_tool.main([weights, '--format', 'torchscript', '--out',
                             str(out), '--direction', 'b2a']) == 0
    x = torch.rand(2, 3, 23, 41) * 2 - 1
    loaded = torch.jit.load(str(out))
    expected = Translator.from_file(weights, precision='fp32')(x, 'b2a')
    with torch.no_grad():
        assert (loaded(x) - expected).abs().max().item() <= 1e-4


DEPLOYMENT_GUIDE = osp.join(REPO, 'docs', 'user_guides', 'deployment.md')


def _readme_onnx_snippet():
    text = open(DEPLOYMENT_GUIDE, encoding='utf-8').read()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    found = [b for b in blocks if 'onnxruntime' in b]
    assert len(found) == 1, 'the deployment guide needs one onnxruntime ' \
        'snippet'
    return found[0]


def test_readme_onnx_snippet_runs_without_this_package(
        demo_weights, onnx_export, tmp_path):
    snippet = _readme_onnx_snippet()
    assert len(snippet.strip().splitlines()) <= 10
    shutil.copy(onnx_export[0], tmp_path / 'photo2anime.onnx')
    photo = _image(45, 61, seed=3)
    Image.fromarray(photo).save(tmp_path / 'photo.jpg', quality=95)
    # mm_cyclegan made unimportable: the snippet must not need it.
    code = "import sys; sys.modules['mm_cyclegan'] = None\n" + snippet
    subprocess.run([sys.executable, '-c', code], cwd=tmp_path, check=True,
                   timeout=120)
    result = np.asarray(Image.open(tmp_path / 'anime.png'))
    expected = Translator.from_file(demo_weights, precision='fp32')(
        str(tmp_path / 'photo.jpg'))
    assert result.shape == expected.shape
    assert np.abs(result.astype(int) - expected.astype(int)).max() <= 1
