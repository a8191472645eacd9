"""Issue 22.2: one ``last_checkpoint`` rule for translate, serve, the API
and auto-resume: the pointer names a file inside its work dir.

An absolute pointer (MMEngine's old form) is taken by its file name inside
the work dir; a ``..`` pointer or a symlink leading out is an error naming
the pointer file and what it named. Nothing outside is ever read.
"""
import os

import numpy as np
import pytest
from PIL import Image

from mm_cyclegan.engine.checkpoint import (
    CheckpointError,
    find_resumable_checkpoint,
    read_checkpoint_pointer,
)
from tests.apis.fixtures import write_checkpoint
from tests.helpers import TINY_CONFIG, load_tool


def _tool(name):
    return load_tool(name, prefix='pointer_tool')


TRANSLATE, TRAIN = _tool('translate'), _tool('train')


@pytest.fixture
def layout(tmp_path):
    """``outside/iter_4.pth`` (another run) and an empty ``work`` dir."""
    outside = tmp_path / 'outside'
    outside.mkdir()
    write_checkpoint(outside / 'iter_4.pth', iteration=4)
    work = tmp_path / 'work'
    work.mkdir()
    return work, outside / 'iter_4.pth'


def _escaping_pointers(work, foreign):
    """(name, set-up) pairs: each makes ``work``'s pointer lead out."""

    def dotdot():
        (work / 'last_checkpoint').write_text('../outside/iter_4.pth')

    def symlink():
        os.symlink(foreign, work / 'iter_4.pth')
        (work / 'last_checkpoint').write_text('iter_4.pth')

    return {'dotdot': dotdot, 'symlink': symlink}


@pytest.mark.parametrize('kind', ['dotdot', 'symlink'])
def test_pointer_out_of_the_work_dir_is_an_error(layout, kind):
    work, foreign = layout
    _escaping_pointers(work, foreign)[kind]()
    named = (work / 'last_checkpoint').read_text()
    with pytest.raises(CheckpointError) as info:
        read_checkpoint_pointer(str(work))
    assert str(work / 'last_checkpoint') in str(info.value)
    assert repr(named) in str(info.value)
    with pytest.raises(CheckpointError, match='last_checkpoint'):
        find_resumable_checkpoint(str(work))


def test_absolute_pointer_means_the_file_of_that_name_inside(layout):
    work, foreign = layout
    (work / 'last_checkpoint').write_text(str(foreign))
    assert read_checkpoint_pointer(str(work)) == str(work / 'iter_4.pth')
    messages = []
    assert find_resumable_checkpoint(str(work), messages.append) is None
    assert 'does not exist' in messages[0]
    write_checkpoint(work / 'iter_4.pth', iteration=4)
    assert find_resumable_checkpoint(str(work)) == str(work / 'iter_4.pth')


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3),
                                               dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / 'p.png')
    return str(tmp_path / 'p.png')


@pytest.mark.parametrize('kind', ['absolute', 'dotdot', 'symlink'])
def test_translate_serve_and_api_never_read_outside(layout, photo, kind,
                                                    tmp_path, capfd):
    from mm_cyclegan.apis import Translator, load_weights
    from mm_cyclegan.apis.deploy.serve.server import serve
    work, foreign = layout
    if kind == 'absolute':
        (work / 'last_checkpoint').write_text(str(foreign))
    else:
        _escaping_pointers(work, foreign)[kind]()
    # The API: an error naming the pointer, not the foreign weights.
    for load in (load_weights, Translator.from_file):
        with pytest.raises(CheckpointError, match='last_checkpoint'):
            load(str(work))
    out_dir = tmp_path / 'out'
    assert TRANSLATE.main([str(work), photo, '--out', str(out_dir),
                           '--no-progress']) == 2
    assert 'last_checkpoint' in capfd.readouterr().err
    assert not out_dir.exists() or not os.listdir(out_dir)
    # The page's loader: refuses before binding a socket.
    assert serve(str(work), port=0) == 2
    assert 'last_checkpoint' in capfd.readouterr().err


def test_auto_resume_with_dotdot_pointer_stops(tmp_path, capfd):
    """A ``../`` pointer to another run's checkpoint: auto-resume stops
    with the reason instead of training from that run."""
    other, work = tmp_path / 'other', tmp_path / 'work'
    assert TRAIN.main([TINY_CONFIG, '--work-dir', str(other), '--no-test',
                       '--cfg-options', 'train_cfg.max_iters=2',
                       'experiment_name=pointer_other']) == 0
    work.mkdir()
    (work / 'last_checkpoint').write_text('../other/iter_2.pth')
    capfd.readouterr()
    assert TRAIN.main([TINY_CONFIG, '--work-dir', str(work), '--no-test',
                       '--resume', '--cfg-options', 'train_cfg.max_iters=3',
                       'experiment_name=pointer_work']) == 2
    err = capfd.readouterr().err
    assert "'../other/iter_2.pth'" in err and 'last_checkpoint' in err
    assert not (work / 'iter_3.pth').exists()
    assert not (other / 'iter_3.pth').exists()
