"""Foreign weights in: junyanz and MMagic layouts, kind detection, strictness.

Parity is measured on a 3 x 64 x 96 input (max |diff| <= 1e-5) between the
foreign network and ours after conversion.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mm_cyclegan.apis import Translator, load_weights
from mm_cyclegan.apis.weights.architecture import build_network
from mm_cyclegan.apis.weights.kinds import KINDS, UnknownWeightsError
from mm_cyclegan.engine.checkpoint import CheckpointMismatchError
from mm_cyclegan.registry import MODELS
from tests.apis.fixtures import (
    JunyanzNLayer,
    JunyanzResnet,
    JunyanzUnet,
    randomise,
    with_stale_stats,
    write_checkpoint,
)
from tools import convert_checkpoint

ATOL = 1e-5


def _input(channels=3, height=64, width=96, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(1, channels, height, width, generator=generator) * 2 - 1


def _max_diff(a, b):
    return (a - b).abs().max().item()


@pytest.mark.parametrize('n_blocks,dropout', [(6, False), (9, False),
                                              (6, True), (9, True)])
def test_junyanz_resnet_generator_matches_after_conversion(
        tmp_path, n_blocks, dropout):
    theirs = randomise(JunyanzResnet(3, 3, ngf=4, n_blocks=n_blocks,
                                     dropout=dropout), seed=n_blocks)
    path = tmp_path / 'latest_net_G_A.pth'
    torch.save(with_stale_stats(theirs), path)
    translator = Translator.from_file(path, precision='fp32')
    assert translator.directions == ('a2b', )
    arch = translator.info.architecture['a2b']
    assert arch['num_blocks'] == n_blocks and arch['use_dropout'] == dropout
    x = _input()
    with torch.no_grad():
        expected = theirs(x)
    assert _max_diff(translator(x), expected) <= ATOL


def test_junyanz_resnet_with_batch_norm_keeps_its_statistics(tmp_path):
    theirs = randomise(JunyanzResnet(3, 3, ngf=4, n_blocks=2,
                                     norm='batch'), seed=3)
    path = tmp_path / 'g.pth'
    torch.save(theirs.state_dict(), path)
    translator = Translator.from_file(path, precision='fp32')
    assert translator.info.architecture['a2b']['norm_cfg'] == {'type': 'BN'}
    with torch.no_grad():
        assert _max_diff(translator(_input()), theirs(_input())) <= ATOL


@pytest.mark.parametrize('num_downs,norm', [(8, 'batch'), (7, 'instance')])
def test_junyanz_unet_generator_matches_after_conversion(
        tmp_path, num_downs, norm):
    theirs = randomise(JunyanzUnet(3, 3, num_downs, ngf=4, norm=norm),
                       seed=num_downs)
    path = tmp_path / 'unet.pth'
    torch.save(with_stale_stats(theirs), path)
    translator = Translator.from_file(path, precision='fp32')
    assert translator.info.architecture['a2b']['num_down'] == num_downs
    assert translator.multiple() == 2**num_downs
    x = _input(height=2**num_downs, width=2**num_downs)
    with torch.no_grad():
        assert _max_diff(translator(x), theirs(x)) <= ATOL


def test_junyanz_training_folder_maps_roles(tmp_path):
    # Domain A is gray, B is RGB, so a swapped role cannot even load.
    nets = {
        'G_A': randomise(JunyanzResnet(1, 3, ngf=4, n_blocks=2), 1),
        'G_B': randomise(JunyanzResnet(3, 1, ngf=4, n_blocks=2), 2),
        'D_A': randomise(JunyanzNLayer(3, ndf=4), 3),
        'D_B': randomise(JunyanzNLayer(1, ndf=4), 4),
    }
    for name, net in nets.items():
        torch.save(with_stale_stats(net), tmp_path / f'latest_net_{name}.pth')
    loaded = load_weights(str(tmp_path))
    assert loaded.kind == 'junyanz_dir'
    roles = {'generator_a2b': 'G_A', 'generator_b2a': 'G_B',
             'discriminator_b': 'D_A', 'discriminator_a': 'D_B'}
    for ours, theirs in roles.items():
        cfg, state = loaded.networks[ours]
        network = build_network(cfg, state, 'test', ours).eval()
        channels = network.state_dict()[
            'model.0.conv.weight'].shape[1]
        x = _input(channels)
        with torch.no_grad():
            assert _max_diff(network(x), nets[theirs](x)) <= ATOL, ours


def test_convert_junyanz_folder_loads_for_fine_tuning(tmp_path):
    src = tmp_path / 'run'
    src.mkdir()
    nets = {
        'G_A': randomise(JunyanzResnet(3, 3, ngf=4, n_blocks=2), 1),
        'G_B': randomise(JunyanzResnet(3, 3, ngf=4, n_blocks=2), 2),
        'D_A': randomise(JunyanzNLayer(3, ndf=4), 3),
        'D_B': randomise(JunyanzNLayer(3, ndf=4), 4),
    }
    for name, net in nets.items():
        torch.save(with_stale_stats(net), src / f'latest_net_{name}.pth')
    out = tmp_path / 'converted.pth'
    assert convert_checkpoint.main(
        [str(src), '--from', 'junyanz', '--out', str(out)]) == 0
    # What tools/train.py --load-from does: MMEngine's loader into the
    # CycleGAN of the stored config, here strictly.
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    model = MODELS.build(Config.fromstring(ckpt['meta']['cfg'],
                                           '.py').model).eval()
    load_checkpoint(model, str(out), strict=True)
    x = _input()
    with torch.no_grad():
        assert _max_diff(model.generator_a2b(x), nets['G_A'](x)) <= ATOL
        assert _max_diff(model.discriminator_b(x), nets['D_A'](x)) <= ATOL
    # A second conversion never silently replaces the first.
    assert convert_checkpoint.main(
        [str(src), '--from', 'junyanz', '--out', str(out)]) == 2
    assert convert_checkpoint.main(
        [str(src), '--from', 'mmagic', '--out', str(tmp_path / 'x.pth')]
    ) == 2


def _mmagic_cyclegan():
    import mmagic.models  # noqa: F401  (registers MMagic's CycleGAN)
    from mmagic.registry import MODELS as MMAGIC_MODELS
    from mmengine.registry import DefaultScope

    import mm_cyclegan  # noqa: F401  (mmcv-lite workaround first)

    # A scoped build: no global default scope leaks into other tests.
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = _build_mmagic(MMAGIC_MODELS)
    return randomise(model, seed=5)


def _build_mmagic(registry):
    return registry.build(dict(
        type='CycleGAN',
        data_preprocessor=dict(type='DataPreprocessor'),
        generator=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=4, norm_cfg=dict(type='IN'),
                       use_dropout=False, num_blocks=2),
        discriminator=dict(type='PatchDiscriminator', in_channels=3,
                           base_channels=4, num_conv=3,
                           norm_cfg=dict(type='IN')),
        default_domain='zebra', reachable_domains=['zebra', 'horse'],
        related_domains=['zebra', 'horse']))


def test_mmagic_checkpoint_converts_bgr_to_rgb(tmp_path):
    theirs = _mmagic_cyclegan()
    path = tmp_path / 'mmagic.pth'
    torch.save({'meta': {}, 'state_dict': theirs.state_dict()}, path)
    translator = Translator.from_file(path, precision='fp32')
    assert translator.info.kind == 'mmagic'
    assert translator.info.domains == ('horse', 'zebra')
    # An image whose three channels differ: a channel mix-up shows.
    rgb = _input()
    rgb[:, 0] = rgb[:, 0].abs()
    rgb[:, 2] = -rgb[:, 2].abs()
    bgr = rgb.flip(1)
    with torch.no_grad():
        expected = theirs.generators['zebra'](bgr).flip(1)
        assert _max_diff(translator(rgb, 'horse2zebra'), expected) <= ATOL
        assert _max_diff(translator(rgb, 'b2a'),
                         theirs.generators['horse'](bgr).flip(1)) <= ATOL
        # Without the permutation the outputs would differ clearly.
        assert _max_diff(translator(bgr), expected) > 1e-3
    loaded = load_weights(str(path))
    cfg, state = loaded.networks['discriminator_b']
    disc = build_network(cfg, state, 'test', 'discriminator_b').eval()
    with torch.no_grad():
        assert _max_diff(disc(rgb),
                         theirs.discriminators['zebra'](bgr)) <= ATOL


def test_mmagic_domains_from_config_or_argument(tmp_path):
    theirs = _mmagic_cyclegan()
    path = tmp_path / 'mmagic.pth'
    cfg = ("model = dict(type='CycleGAN', default_domain='horse', "
           "reachable_domains=['horse', 'zebra'])")
    torch.save({'meta': {'cfg': cfg}, 'state_dict': theirs.state_dict()},
               path)
    assert load_weights(str(path)).domains == ('zebra', 'horse')
    assert load_weights(str(path), domains=('horse', 'zebra')).domains == (
        'horse', 'zebra')
    with pytest.raises(ValueError, match='zebra'):
        load_weights(str(path), domains=('cat', 'dog'))


def test_unknown_keys_list_the_expected_kinds(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'backbone.conv1.weight': torch.zeros(1)}, path)
    with pytest.raises(UnknownWeightsError) as err:
        Translator.from_file(path)
    message = str(err.value)
    assert 'backbone.conv1.weight' in message and str(path) in message
    for kind in KINDS:
        assert kind in message
    with pytest.raises(FileNotFoundError):
        load_weights(str(tmp_path / 'missing.pth'))


def test_loading_is_strict_and_names_file_and_layout(tmp_path):
    path = tmp_path / 'iter_7.pth'
    write_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    del ckpt['state_dict']['generator_a2b.model.3.block.0.conv.bias']
    ckpt['state_dict']['generator_a2b.model.9.conv.weight'] = torch.zeros(1)
    torch.save(ckpt, path)
    with pytest.raises(CheckpointMismatchError) as err:
        Translator.from_file(path)
    message = str(err.value)
    assert str(path) in message and 'generator_a2b' in message
    assert 'ResnetGenerator(' in message
    assert 'missing' in message and 'model.3.block.0.conv.bias' in message
    assert 'unexpected' in message and 'model.9.conv.weight' in message


def test_config_argument_overrides_the_stored_config(tmp_path):
    path = tmp_path / 'iter_7.pth'
    write_checkpoint(path, base=8, blocks=1)
    wrong = tmp_path / 'wrong.py'
    wrong.write_text(
        "model = dict(type='CycleGAN', generator_a2b=dict(type="
        "'ResnetGenerator', in_channels=3, out_channels=3, "
        "base_channels=16, num_blocks=1))\n")
    with pytest.raises(CheckpointMismatchError, match='mismatched'):
        Translator.from_file(path, config=str(wrong))
    assert osp.isfile(path)


def test_data_parallel_prefix_is_stripped(tmp_path):
    theirs = randomise(JunyanzResnet(3, 3, ngf=4, n_blocks=1), seed=8)
    path = tmp_path / 'latest_net_G_A.pth'
    torch.save({f'module.{k}': v for k, v in theirs.state_dict().items()},
               path)
    translator = Translator.from_file(path, precision='fp32')
    with torch.no_grad():
        assert _max_diff(translator(_input()), theirs(_input())) <= ATOL


def test_unparsable_stored_config_falls_back_to_the_keys(tmp_path):
    path = tmp_path / 'iter_7.pth'
    write_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    ckpt['meta']['cfg'] = 'model = dict(type=\n'
    torch.save(ckpt, path)
    with pytest.warns(UserWarning, match='cannot parse the config'):
        translator = Translator.from_file(path)
    assert translator.info.architecture['a2b']['base_channels'] == 8
