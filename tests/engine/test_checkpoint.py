"""The checkpoint policy: plain form, safe reading, strict weights, discovery,
and the loss and checkpoint guards (unit level; tools: tests/tools)."""
import os
import os.path as osp
import random
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from mm_cyclegan.engine.checkpoint import (
    CheckpointMismatchError,
    UnsafeCheckpointError,
    decode_state,
    encode_state,
    find_resumable_checkpoint,
    is_intact_checkpoint,
    load_model_weights,
    non_finite_tensors,
    read_checkpoint,
)


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _training_state():
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test-checkpoint-plain')
    hub.update_scalar('train/loss', np.float64(1.5))
    hub.update_scalar('train/loss', 2.0)
    hub.update_info('iter', 3)
    return dict(
        meta=dict(seed=np.int64(7), iter=3, cfg='x = 1'),
        message_hub=hub.state_dict(),
        rng=dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state()),
        state_dict={'w': torch.arange(3.)})


def test_training_state_round_trips_through_weights_only(tmp_path):
    state = _training_state()
    path = tmp_path / 'plain.pth'
    torch.save(dict(encode_state(state), mm_cyclegan_format=2), path)
    raw = torch.load(path, weights_only=True)  # no allow-list needed
    back = decode_state(raw)
    buffer = back['message_hub']['log_scalars']['train/loss']
    assert buffer.mean() == pytest.approx(1.75) and buffer.current() == 2.0
    assert back['meta']['seed'] == 7
    assert back['rng']['python'] == random.getstate()
    saved = state['rng']['numpy']
    assert back['rng']['numpy'][0] == saved[0]
    assert back['rng']['numpy'][1].dtype == saved[1].dtype
    assert np.array_equal(back['rng']['numpy'][1], saved[1])
    np.random.set_state(back['rng']['numpy'])  # accepted by numpy
    assert read_checkpoint(str(path), purpose='resume')['meta']['iter'] == 3


def test_unknown_objects_are_refused_at_save_naming_type_and_place():
    with pytest.raises(TypeError, match=r"\['meta'\]\['x'\].*Payload"):
        encode_state(dict(meta=dict(x=Payload('/nonexistent'))))


def _with_payload(where, marker):
    ckpt = dict(encode_state(_training_state()), mm_cyclegan_format=2)
    ckpt['optimizer'] = dict(state={}, param_groups=[dict(lr=0.1)])
    if where == 'meta':
        ckpt['meta']['note'] = Payload(marker)
    elif where == 'state_dict':
        ckpt['state_dict']['evil'] = Payload(marker)
    else:
        ckpt['optimizer']['state'][0] = dict(step=Payload(marker))
    return ckpt


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('where', ['meta', 'state_dict', 'optimizer'])
def test_payloads_never_run(tmp_path, where, legacy):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(_with_payload(where, marker), path,
               _use_new_zipfile_serialization=not legacy)
    # Resume reads only the zip format, which is all our runner writes.
    with pytest.raises(UnsafeCheckpointError,
                       match='legacy' if legacy else 'posix.system'):
        read_checkpoint(str(path), purpose='resume')
    loaded = read_checkpoint(str(path), purpose='weights')
    assert 'posix.system' in loaded.ignored_types
    model = nn.Module()
    model.register_buffer('w', torch.zeros(3))
    if where == 'state_dict':
        with pytest.raises(CheckpointMismatchError, match="'evil'"):
            load_model_weights(model, loaded)
    else:
        load_model_weights(model, loaded)
        assert torch.equal(model.w, torch.arange(3.))
    assert not marker.exists()


def test_old_full_pickle_checkpoint_is_refused_for_resume(tmp_path):
    # What mm_cyclegan wrote before the plain format: MMEngine's objects.
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test-checkpoint-old')
    hub.update_scalar('train/loss', 1.0)
    path = tmp_path / 'old.pth'
    torch.save(dict(state_dict={'w': torch.ones(1)},
                    message_hub=hub.state_dict()), path)
    with pytest.raises(UnsafeCheckpointError,
                       match='HistoryBuffer.*older mm_cyclegan'):
        read_checkpoint(str(path), purpose='resume')
    # Its weights stay usable.
    weights = read_checkpoint(str(path), purpose='weights')
    assert torch.equal(weights['state_dict']['w'], torch.ones(1))


def test_foreign_checkpoint_without_our_state_is_not_resumed(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}}, path)
    with pytest.raises(UnsafeCheckpointError, match='--load-from'):
        read_checkpoint(str(path), purpose='resume')


def _net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 3, 1))


def test_strict_weights_name_keys_checkpoint_and_config(tmp_path):
    other = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 3, 1))
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': other.state_dict()}, path)
    model = _net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(model, path, config='cfg.py')
    text = str(err.value)
    assert path in text and 'cfg.py' in text and '0.weight' in text
    assert 'shape mismatch' in text and '--partial' in text
    # Nothing was loaded.
    assert all(torch.equal(before[k], v)
               for k, v in model.state_dict().items())
    # A partial load takes what fits and reports the rest.
    report = load_model_weights(model, path, strict=False)
    assert report.loaded == ['1.bias'] and len(report.mismatched) == 3
    assert torch.equal(model[1].bias, other[1].bias)


def test_unrelated_tensor_file_is_an_error_even_when_partial(tmp_path):
    path = str(tmp_path / 'unrelated.pth')
    torch.save({'embedding': torch.ones(10)}, path)
    for strict in (True, False):
        with pytest.raises(CheckpointMismatchError, match='None of the'):
            load_model_weights(_net(), path, strict=strict)


def test_module_prefix_is_stripped(tmp_path):
    source = _net()
    state = {f'module.{k}': v for k, v in source.state_dict().items()}
    model = _net()
    assert load_model_weights(model, {'state_dict': state}).complete
    assert torch.equal(model[0].weight, source[0].weight)


def test_non_finite_tensors_are_named():
    state = {'a': torch.ones(2), 'b': torch.tensor([1., float('nan')]),
             'n': {'c': torch.tensor([float('inf')])},
             'steps': torch.tensor([3])}
    assert non_finite_tensors(state) == ['b', 'n.c']


# ---------------------------------------------------------------- discovery


def _ckpt(path, value=1.):
    torch.save({'state_dict': {'w': torch.full((64, ), value)}}, path)


def test_discovery_prefers_pointer_relative_to_work_dir(tmp_path):
    _ckpt(tmp_path / 'iter_2.pth')
    _ckpt(tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text('iter_2.pth')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path /
                                                           'iter_2.pth')


def test_moved_work_dir_uses_its_own_files(tmp_path):
    old = tmp_path / 'old'
    old.mkdir()
    _ckpt(old / 'iter_2.pth')
    (old / 'last_checkpoint').write_text(str(old / 'iter_2.pth'))  # old form
    new = tmp_path / 'new'
    shutil.copytree(old, new)
    assert find_resumable_checkpoint(str(new)) == str(new / 'iter_2.pth')
    shutil.rmtree(old)
    assert find_resumable_checkpoint(str(new)) == str(new / 'iter_2.pth')


def test_damaged_newest_falls_back_to_newest_intact(tmp_path):
    messages = []
    _ckpt(tmp_path / 'iter_2.pth')
    _ckpt(tmp_path / 'iter_4.pth')
    _ckpt(tmp_path / 'iter_6.pth')
    data = (tmp_path / 'iter_6.pth').read_bytes()
    (tmp_path / 'iter_6.pth').write_bytes(data[:len(data) // 2])
    data = bytearray((tmp_path / 'iter_4.pth').read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the tensor data
    (tmp_path / 'iter_4.pth').write_bytes(bytes(data))
    (tmp_path / 'last_checkpoint').write_text('iter_6.pth')
    (tmp_path / 'iter_8.pth.tmp').write_bytes(b'partial')
    found = find_resumable_checkpoint(str(tmp_path), messages.append)
    assert found == str(tmp_path / 'iter_2.pth')
    assert not is_intact_checkpoint(str(tmp_path / 'iter_6.pth'))
    assert any('iter_6.pth' in m and 'damaged' in m for m in messages)
    assert any('iter_4.pth' in m for m in messages)


def test_damaged_file_is_a_clear_error(tmp_path):
    from mm_cyclegan.engine.checkpoint import DamagedCheckpointError
    path = tmp_path / 'half.pth'
    _ckpt(path)
    path.write_bytes(path.read_bytes()[:200])
    for purpose in ('resume', 'weights'):
        with pytest.raises(DamagedCheckpointError, match='half.pth'):
            read_checkpoint(str(path), purpose=purpose)


def test_stale_pointer_and_nothing_else_means_none(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('/gone/iter_9.pth')
    messages = []
    assert find_resumable_checkpoint(str(tmp_path), messages.append) is None
    assert messages and 'does not exist' in messages[0]
    assert find_resumable_checkpoint(str(tmp_path / 'nope')) is None


# -------------------------------------------------------------------- guards


def test_finite_loss_hook_names_loss_and_iteration():
    from types import SimpleNamespace

    from mm_cyclegan.engine.hooks import FiniteLossHook, NonFiniteLossError
    hook = FiniteLossHook()
    runner = SimpleNamespace(iter=6)
    hook.after_train_iter(runner, 0, outputs=dict(
        loss_gan_a2b=torch.tensor(0.5), loss_weight_gan=1.0))
    with pytest.raises(NonFiniteLossError,
                       match=r'iteration 7: loss_cycle_a=nan'):
        hook.after_train_iter(runner, 0, outputs=dict(
            loss_gan_a2b=torch.tensor(0.5),
            loss_cycle_a=torch.tensor(float('nan'))))
    with pytest.raises(TypeError):
        FiniteLossHook(keys='loss')


def test_scope_has_a_log_processor_registry(capsys):
    # Without it every run started with a registry-scope warning.
    from mmengine.registry import DefaultScope

    from mm_cyclegan.registry import LOG_PROCESSORS
    with DefaultScope.overwrite_default_scope('mm_cyclegan'):
        LOG_PROCESSORS.build(dict(type='LogProcessor', by_epoch=False))
    captured = capsys.readouterr()
    assert 'Failed to search registry' not in captured.out + captured.err


def test_symlinked_subfolders_are_followed_without_looping(tmp_path):
    from mm_cyclegan.datasets.scan import list_image_files
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'x.png').write_bytes(b'')
    root = tmp_path / 'trainA'
    (root / 'sub').mkdir(parents=True)
    (root / 'a.png').write_bytes(b'')
    (root / 'sub' / 'b.png').write_bytes(b'')
    os.symlink(outside, root / 'linked')
    os.symlink(root, root / 'sub' / 'loop')  # back to the top
    files, ignored = list_image_files(str(root))
    names = [osp.relpath(f, root) for f in files]
    assert names == ['a.png', 'linked/x.png', 'sub/b.png']
    assert ignored == 1  # the loop
