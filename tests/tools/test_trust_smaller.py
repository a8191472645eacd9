"""Issue 22.5 (all but the download caps): named config errors, a folder as
checkpoint, one non-tensor rule, the demo seed, the Host check on a
network address, and glob inputs with ``--out`` among them."""
import asyncio
import itertools
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from tests.apis.fixtures import write_checkpoint
from tests.helpers import REPO, TINY_CONFIG, load_tool

EVAL_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_procedural_eval.py')
_ids = itertools.count()


def _tool(name):
    return load_tool(name, prefix='smaller_tool')


TRAIN, TEST, TRANSLATE = _tool('train'), _tool('test'), _tool('translate')


def _experiment():
    return f'experiment_name=smaller{next(_ids)}'


@pytest.mark.parametrize('option,named', [
    ('train_cfg.max_iters=ten', "train_cfg.max_iters must be an int, got "
     "'ten'"),
    ('optim_wrapper.generators.optimizer.lr=-1',
     'optim_wrapper.generators.optimizer.lr must be a finite number >= 0, '
     'got -1'),
    ('train_dataloader.batch_size=0',
     'train_dataloader.batch_size must be >= 1, got 0'),
])
def test_bad_values_are_named_before_the_first_iteration(tmp_path, capfd,
                                                         option, named):
    assert TRAIN.main([TINY_CONFIG, '--work-dir', str(tmp_path), '--no-test',
                       '--cfg-options', option, _experiment()]) == 2
    err = capfd.readouterr().err
    assert named in err and 'Traceback' not in err, err[-2000:]
    assert not list(tmp_path.glob('*.pth'))


def test_a_folder_as_checkpoint_is_called_a_folder(tmp_path, capfd):
    folder = tmp_path / 'ckpt.pth'
    folder.mkdir()
    assert TEST.main([EVAL_CONFIG, str(folder), '--work-dir',
                      str(tmp_path / 'w'), '--cfg-options',
                      _experiment()]) == 2
    err = capfd.readouterr().err
    assert f'{folder} is a directory' in err and 'not found' not in err
    assert TRAIN.main([TINY_CONFIG, '--work-dir', str(tmp_path / 'w2'),
                       '--no-test', '--load-from', str(folder),
                       '--cfg-options', 'train_cfg.max_iters=1',
                       _experiment()]) == 2
    assert f'{folder} is a directory' in capfd.readouterr().err


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp('smaller_weights') / 'w.pth'
    write_checkpoint(path)
    return str(path)


def _photo(path):
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3),
                                               dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def test_translate_refuses_a_non_tensor_entry_like_test(weights, tmp_path,
                                                        capfd):
    ckpt = torch.load(weights, weights_only=True)
    ckpt['state_dict']['step'] = 3
    bad = tmp_path / 'bad.pth'
    torch.save(ckpt, bad)
    photo = _photo(tmp_path / 'p.png')
    assert TRANSLATE.main([str(bad), photo, '--out', str(tmp_path / 'out'),
                           '--no-progress']) == 2
    err = capfd.readouterr().err
    assert "state_dict entry 'step' is not a tensor (int)" in err
    assert not (tmp_path / 'out').exists()


def test_glob_input_with_out_beside_the_inputs_is_refused(weights, tmp_path,
                                                          capfd):
    inputs = tmp_path / 'in'
    inputs.mkdir()
    _photo(inputs / 'a.png')
    out = inputs / 'sub'
    assert TRANSLATE.main([weights, str(inputs / '*.png'), '--out', str(out),
                           '--no-progress']) == 2
    err = capfd.readouterr().err
    assert 'is inside the folder' in err and 'input pattern' in err
    assert not out.exists()
    # Outside the pattern's folder it translates.
    assert TRANSLATE.main([weights, str(inputs / '*.png'), '--out',
                           str(tmp_path / 'out'), '--no-progress']) == 0
    assert (tmp_path / 'out' / 'a.png').exists()


# ------------------------------------------------------------------ the page


def _get(app, path, query=b'', host='localhost'):
    """One GET through the ASGI app: ``(status, body)``."""
    messages = []
    scope = {'type': 'http', 'asgi': {'version': '3.0'},
             'http_version': '1.1', 'method': 'GET', 'scheme': 'http',
             'path': path, 'raw_path': path.encode(), 'query_string': query,
             'root_path': '', 'headers': [(b'host', host.encode())],
             'client': ('127.0.0.1', 5000), 'server': ('127.0.0.1', 7860)}

    async def receive():
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message):
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m['status'] for m in messages
                  if m['type'] == 'http.response.start')
    body = b''.join(m.get('body', b'') for m in messages
                    if m['type'] == 'http.response.body')
    return status, body


@pytest.fixture(scope='module')
def served(weights):
    pytest.importorskip('starlette')
    from mm_cyclegan.apis.deploy.serve.model import ServedModel
    return ServedModel.from_file(weights)


def test_demo_seed_must_be_ascii_digits(served):
    from mm_cyclegan.apis.deploy.serve.app import create_app
    app = create_app(served)
    status, body = _get(app, '/api/demo', 'seed=%C2%B2'.encode())
    assert status == 400 and 'seed must be an integer' in body.decode()
    assert _get(app, '/api/demo', b'seed=3')[0] == 200


def test_network_host_keeps_the_host_check(served):
    from mm_cyclegan.apis.deploy.serve.app import create_app
    app = create_app(served, host='0.0.0.0')
    assert _get(app, '/api/info', host='attacker.example:7860')[0] == 400
    assert _get(app, '/api/info', host='localhost:7860')[0] == 200
    app = create_app(served, host='0.0.0.0', allow_hosts=['box.lan'])
    assert _get(app, '/api/info', host='box.lan:7860')[0] == 200
    assert _get(app, '/api/info', host='attacker.example')[0] == 400
    # A specific address answers to itself.
    app = create_app(served, host='192.0.2.7')
    assert _get(app, '/api/info', host='192.0.2.7:7860')[0] == 200


def test_serve_on_the_network_warns(weights, monkeypatch, capfd):
    import uvicorn

    from mm_cyclegan.apis.deploy.serve.server import serve
    monkeypatch.setattr(uvicorn.Server, 'run', lambda self, sockets: None)
    assert serve(weights, host='0.0.0.0', port=0) == 0
    err = capfd.readouterr().err
    assert 'reachable from the network' in err and '--allow-host' in err
    assert serve(weights, host='0.0.0.0', port=0,
                 allow_hosts=['box.lan']) == 0
    err = capfd.readouterr().err
    assert 'reachable from the network' in err and 'box.lan' in err
    assert serve(weights, host='127.0.0.1', port=0) == 0
    assert 'reachable' not in capfd.readouterr().err
