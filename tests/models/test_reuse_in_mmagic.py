"""Our networks inside a MMagic model, referenced from MMagic's scope."""
import copy

import pytest
import torch
from mmengine import Config, MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope
from mmengine.utils import import_modules_from_strings

CONFIG = dict(
    custom_imports=dict(imports=['mm_cyclegan'], allow_failed_imports=False),
    model=dict(
        type='Pix2Pix',
        data_preprocessor=dict(type='DataPreprocessor', data_keys=None),
        generator=dict(
            type='mm_cyclegan.ResnetGenerator',
            in_channels=3,
            out_channels=3,
            base_channels=8,
            num_blocks=1),
        discriminator=dict(
            type='mm_cyclegan.PatchDiscriminator',
            in_channels=6,  # pix2pix judges (source, target) pairs
            base_channels=8,
            num_conv=2),
        default_domain='photo',
        reachable_domains=['photo'],
        related_domains=['photo', 'mask']))


@pytest.mark.filterwarnings('ignore:size_average and reduce')
def test_mmagic_pix2pix_trains_with_our_networks():
    cfg = Config(CONFIG)
    import_modules_from_strings(**cfg.custom_imports)
    from mmagic.registry import MODELS as MMAGIC_MODELS
    from mmagic.structures import DataSample

    from mm_cyclegan.models.discriminators import PatchDiscriminator
    from mm_cyclegan.models.generators import ResnetGenerator

    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MMAGIC_MODELS.build(cfg.model)
        assert type(model).__module__.startswith('mmagic.')
        assert type(model.generators['photo']) is ResnetGenerator
        assert type(model.discriminators['photo']) is PatchDiscriminator
        # MMagic's own networks crash here (open-mmlab/mmagic#2109).
        model.init_weights()

        torch.manual_seed(0)
        data = dict(
            inputs=dict(
                img_photo=torch.randint(0, 256, (2, 3, 32, 32)).float(),
                img_mask=torch.randint(0, 256, (2, 3, 32, 32)).float()),
            data_samples=[DataSample(), DataSample()])
        optim_wrapper = OptimWrapperDict(
            generators=OptimWrapper(
                torch.optim.Adam(model.generators.parameters(), lr=1e-3)),
            discriminators=OptimWrapper(
                torch.optim.Adam(model.discriminators.parameters(),
                                 lr=1e-3)))
        # Pix2Pix reads the iteration from the current message hub.
        MessageHub.get_instance('test_reuse_in_mmagic').update_info(
            'iter', 0)
        before = {k: v.clone() for k, v in model.named_parameters()}
        log_vars = model.train_step(data, optim_wrapper)

    for key in ('loss_gan_d_real', 'loss_gan_d_fake', 'loss_gan_g',
                'loss_pixel'):
        assert torch.isfinite(log_vars[key]), key
    # One step of each optimiser moved every weight of both networks.
    for name, param in model.named_parameters():
        if param.dim() > 1:
            assert not torch.equal(param, before[name]), name


def _mmagic_pix2pix_config():
    """MMagic's own Pix2Pix model config, with tiny networks (32 px)."""
    import os.path as osp

    import mmagic
    path = osp.join(osp.dirname(mmagic.__file__), '.mim', 'configs',
                    '_base_', 'models', 'base_pix2pix.py')
    model = copy.deepcopy(Config.fromfile(path).model)
    model.update(
        data_preprocessor=dict(type='DataPreprocessor', data_keys=None),
        default_domain='photo', reachable_domains=['photo'],
        related_domains=['photo', 'mask'])
    model.generator.update(num_down=5, base_channels=4)
    model.discriminator.update(base_channels=4, num_conv=2)
    return model


def _train_twice(model, seed):
    """Two Adam steps of Pix2Pix on fixed data; the log of each step."""
    from mmagic.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=dict(
            img_photo=torch.randint(0, 256, (2, 3, 32, 32),
                                    generator=gen).float(),
            img_mask=torch.randint(0, 256, (2, 3, 32, 32),
                                   generator=gen).float()),
        data_samples=[DataSample(), DataSample()])
    optim_wrapper = OptimWrapperDict(
        generators=OptimWrapper(torch.optim.Adam(
            model.generators.parameters(), lr=1e-3, betas=(0.5, 0.999))),
        discriminators=OptimWrapper(torch.optim.Adam(
            model.discriminators.parameters(), lr=1e-3,
            betas=(0.5, 0.999))))
    hub = MessageHub.get_instance(f'test_pix2pix_parity_{seed}')
    logs = []
    for step in range(2):
        hub.update_info('iter', step)
        torch.manual_seed(seed + step)  # the same dropout masks
        logs.append(model.train_step(data, optim_wrapper))
    return logs


@pytest.mark.filterwarnings('ignore:size_average and reduce',
                            'ignore:Unnecessary conv bias')
def test_mmagic_pix2pix_config_with_only_types_changed_behaves_the_same():
    """The README's promise: change ``type=`` only, get MMagic's model.

    MMagic's Pix2Pix config (U-Net generator with batch norm and dropout,
    PatchGAN with batch norm) is built twice, once with MMagic's networks
    and once with ``type='mm_cyclegan.<Name>'`` and every other key as it
    is. With MMagic's weights loaded strictly, two training steps give the
    same losses and the same updated weights.
    """
    import_modules_from_strings(imports=['mm_cyclegan'])
    from mmagic.registry import MODELS as MMAGIC_MODELS

    from mm_cyclegan.models.discriminators import PatchDiscriminator
    from mm_cyclegan.models.generators import UnetGenerator

    theirs_cfg = _mmagic_pix2pix_config()
    ours_cfg = copy.deepcopy(theirs_cfg)
    for key in ('generator', 'discriminator'):
        ours_cfg[key]['type'] = 'mm_cyclegan.' + theirs_cfg[key]['type']
    assert {k: v for k, v in ours_cfg.generator.items() if k != 'type'} \
        == {k: v for k, v in theirs_cfg.generator.items() if k != 'type'}
    with DefaultScope.overwrite_default_scope('mmagic'):
        theirs = MMAGIC_MODELS.build(theirs_cfg)
        ours = MMAGIC_MODELS.build(ours_cfg)
        assert type(ours.generators['photo']) is UnetGenerator
        assert type(ours.discriminators['photo']) is PatchDiscriminator
        assert type(theirs.generators['photo']) is not UnetGenerator
        ours.load_state_dict(theirs.state_dict(), strict=True)
        logs_theirs = _train_twice(theirs, seed=7)
        logs_ours = _train_twice(ours, seed=7)

    for step, (log_ours, log_theirs) in enumerate(zip(logs_ours,
                                                      logs_theirs)):
        assert log_ours.keys() == log_theirs.keys()
        for key, value in log_theirs.items():
            torch.testing.assert_close(log_ours[key], value,
                                       msg=f'step {step} {key}')
    trained = theirs.state_dict()
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, trained[key], msg=key)
