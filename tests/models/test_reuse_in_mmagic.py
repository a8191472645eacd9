"""Our networks inside a MMagic model, referenced from MMagic's scope."""
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
