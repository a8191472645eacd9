"""Issue 22.1: no checkpoint runs code, in any pickle, at any entry point.

Each case is a file with a payload (``os.system('touch M')`` and
``open(M2, 'w')`` via ``__reduce__``) in one pickle of one format:

* zip format (``data.pkl``, the main pickle): in ``meta``, a
  ``state_dict`` value, the optimizer state, the message hub, the top
  level;
* legacy format from ``torch.save(..., _use_new_zipfile_serialization=
  False)``: the same places of the main pickle;
* hand-made legacy streams with the payload as the first pickle (magic
  number), the protocol or sys_info pickle, the main pickle, or the last
  pickle (storage keys).

Every file goes to every entry point: ``tools/train.py --load-from`` and
``--resume``, ``tools/test.py``, ``tools/translate.py``,
``tools/convert_checkpoint.py`` (``--from junyanz`` and ``--from mmagic``),
``tools/publish.py``, ``tools/export.py`` (their ``main()`` in this
process), the page's loader (``ServedModel.from_file``, what
``tools/serve.py`` calls) and ``Translator.from_file``. No marker may ever
appear; each either refuses cleanly (exit code 2 with a message, or a
``ValueError``) or loads the tensors and ignores the rest.
"""
import io
import itertools
import os
import os.path as osp
import pickle
import pickletools

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from tests.helpers import REPO, load_tool

EVAL_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_procedural_eval.py')
_ids = itertools.count()


def _tool(name):
    return load_tool(name, prefix='payload_tool')


class SystemPayload:
    """Unpickling this runs ``touch marker`` through ``os.system``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class OpenPayload:
    """Unpickling this creates ``marker`` with the builtin ``open``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


DICT_PLACES = ('meta', 'state_dict', 'optimizer', 'message_hub', 'top')
#: One file with a payload in each place but the state dict (which is
#: refused as not a tensor): loads inert everywhere.
ALL_INERT = 'meta+optimizer+message_hub+top'
STREAM_PLACES = ('magic', 'protocol', 'sys_info', 'main', 'storage_keys')
CASES = ([('zip', p) for p in DICT_PLACES + (ALL_INERT, )]
         + [('legacy', p) for p in DICT_PLACES + (ALL_INERT, )]
         + [('stream', p) for p in STREAM_PLACES])


def _clean_checkpoint():
    """A plain checkpoint of the tiny eval config's model (no training)."""
    import mm_cyclegan  # noqa: F401  (registers the model)
    from mm_cyclegan.registry import MODELS
    cfg = Config.fromfile(EVAL_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    return dict(
        meta=dict(cfg=cfg.pretty_text, iter=1, epoch=0),
        state_dict=dict(model.state_dict()),
        optimizer=dict(generators=dict(
            state={0: dict(step=torch.tensor(1.))},
            param_groups=[dict(lr=2e-4, params=[0])])),
        message_hub=dict(log_scalars={}, runtime_info={'iter': 1}),
        mm_cyclegan_format=2)


def _payloads(markers):
    return [SystemPayload(markers[0]), OpenPayload(markers[1])]


def _with_payload(places, markers):
    ckpt = _clean_checkpoint()
    evil = _payloads(markers)
    for place in places.split('+'):
        if place == 'meta':
            ckpt['meta']['note'] = evil
        elif place == 'state_dict':
            ckpt['state_dict']['evil'] = evil
        elif place == 'optimizer':
            ckpt['optimizer']['generators']['state'][0]['step'] = evil
        elif place == 'message_hub':
            ckpt['message_hub']['runtime_info']['evil'] = evil
        else:
            ckpt['evil'] = evil
    return ckpt


def _legacy_pickles(obj):
    """A legacy ``torch.save`` stream cut into its five pickles (magic,
    protocol, sys_info, main, storage keys) and the raw storage bytes."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    data = buffer.getvalue()
    stream, bounds = io.BytesIO(data), [0]
    for _ in range(5):
        for _op in pickletools.genops(stream):  # stops after STOP
            pass
        bounds.append(stream.tell())
    parts = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    return parts + [data[bounds[-1]:]]


def _stream_with_payload(place, markers):
    parts = _legacy_pickles(_clean_checkpoint())
    evil = pickle.dumps(_payloads(markers), protocol=2)
    index = STREAM_PLACES.index(place)
    parts[index] = evil
    if place == 'main':  # a main pickle without tensors: no storages
        parts[4], parts[5] = pickle.dumps([], protocol=2), b''
    return b''.join(parts)


@pytest.fixture(scope='module')
def payload_files(tmp_path_factory):
    """``{(format, place): path}`` and the two markers."""
    folder = tmp_path_factory.mktemp('payload_files')
    markers = (folder / 'pwned_system', folder / 'pwned_open')
    files = {}
    for kind, place in CASES:
        path = folder / f'{kind}_{place}.pth'
        if kind == 'stream':
            path.write_bytes(_stream_with_payload(place, markers))
        else:
            torch.save(_with_payload(place, markers), path,
                       _use_new_zipfile_serialization=kind == 'zip')
        files[kind, place] = str(path)
    return files, markers


@pytest.fixture(scope='module')
def photo(tmp_path_factory):
    folder = tmp_path_factory.mktemp('payload_photo')
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3),
                                               dtype=np.uint8)
    Image.fromarray(pixels).save(folder / 'p.png')
    return str(folder / 'p.png')


TRAIN, TEST = _tool('train'), _tool('test')
TRANSLATE, CONVERT = _tool('translate'), _tool('convert_checkpoint')
PUBLISH, EXPORT = _tool('publish'), _tool('export')


def _options():
    return ['--cfg-options', 'train_cfg.max_iters=1',
            f'experiment_name=payload{next(_ids)}']


def _load_from(path, tmp, photo):
    return TRAIN.main([EVAL_CONFIG, '--work-dir', str(tmp / 'w'),
                       '--no-test', '--load-from', path, *_options()])


def _resume(path, tmp, photo):
    return TRAIN.main([EVAL_CONFIG, '--work-dir', str(tmp / 'w'),
                       '--no-test', '--resume', path, *_options()])


def _test_tool(path, tmp, photo):
    return TEST.main([EVAL_CONFIG, path, '--work-dir', str(tmp / 'w'),
                      '--cfg-options', f'experiment_name=payload'
                      f'{next(_ids)}'])


def _translate(path, tmp, photo):
    return TRANSLATE.main([path, photo, '--out', str(tmp / 'out'),
                           '--no-progress'])


def _convert_junyanz(path, tmp, photo):
    return CONVERT.main([path, '--from', 'junyanz', '--out',
                         str(tmp / 'c.pth')])


def _convert_mmagic(path, tmp, photo):
    return CONVERT.main([path, '--from', 'mmagic', '--out',
                         str(tmp / 'c.pth'), '--domains', 'a', 'b'])


def _publish(path, tmp, photo):
    return PUBLISH.main([path, '--out', str(tmp / 'pub')])


def _export(path, tmp, photo):
    return EXPORT.main([path, '--format', 'torchscript', '--out',
                        str(tmp / 'g.pt')])


def _api_call(load):
    import sys
    try:
        load()
    except ValueError as err:  # CheckpointError and friends
        print(f'error: {err}', file=sys.stderr)  # as the tools say it
        return 2
    return 0


def _serve_loader(path, tmp, photo):
    from mm_cyclegan.apis.deploy.serve.model import ServedModel
    return _api_call(lambda: ServedModel.from_file(path))


def _translator(path, tmp, photo):
    from mm_cyclegan.apis import Translator
    return _api_call(lambda: Translator.from_file(path))


ENTRY_POINTS = {
    'load_from': _load_from, 'resume': _resume, 'test_tool': _test_tool,
    'translate': _translate, 'convert_junyanz': _convert_junyanz,
    'convert_mmagic': _convert_mmagic, 'publish': _publish,
    'export': _export, 'serve_loader': _serve_loader,
    'translator_from_file': _translator,
}


#: Entry points that train, test or export after an inert load (seconds
#: each): every refused case, and one file per format with a payload in
#: every place that loads inert; the others take every case.
SLOW = ('load_from', 'test_tool', 'export')
RUNS = [(kind, place, entry) for kind, place in CASES
        for entry in sorted(ENTRY_POINTS)
        if entry not in SLOW or kind == 'stream'
        or place in ('state_dict', ALL_INERT)]
#: The default suite feeds every entry point every pickle of the stream
#: and, per format, the state_dict payload and one file with a payload in
#: every other place at once; the single-place files (the same places,
#: one at a time) run with `make test-slow`.
_EVERY_PLACE = ('state_dict', ALL_INERT)
RUN_PARAMS = [
    pytest.param(*run, id='-'.join(run),
                 marks=() if run[0] == 'stream' or run[1] in _EVERY_PLACE
                 else pytest.mark.slow)
    for run in RUNS]


@pytest.mark.parametrize('kind,place,entry', RUN_PARAMS)
def test_no_payload_runs_anywhere(payload_files, photo, tmp_path, capfd,
                                  kind, place, entry):
    files, markers = payload_files
    code = ENTRY_POINTS[entry](files[kind, place], tmp_path, photo)
    out, err = capfd.readouterr()
    assert not any(osp.exists(m) for m in markers), (kind, place, entry)
    assert code in (0, 1, 2), code
    if code:
        assert 'Traceback' not in err and err.strip(), err[-2000:]
    if kind == 'stream' and place != 'main':
        # Header and trailer pickles hold plain data: always refused.
        assert code == 2, (out + err)[-2000:]
    if entry == 'resume':
        assert code == 2 and 'Refusing to resume' in err, err[-2000:]


def test_the_payloads_are_live(payload_files, tmp_path):
    """The files do run their payload when unpickled without restriction
    (so the test above would see it)."""
    files, markers = payload_files
    for kind, place in (('zip', 'meta'), ('stream', 'magic'),
                        ('stream', 'storage_keys')):
        for marker in markers:
            if osp.exists(marker):
                os.remove(marker)
        try:
            torch.load(files[kind, place], weights_only=False)
        except Exception:  # the payload replaced data torch expects
            pass
        assert all(osp.exists(m) for m in markers), (kind, place)
        for marker in markers:
            os.remove(marker)
