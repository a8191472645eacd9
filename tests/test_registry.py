"""Our components live in scope mm_cyclegan and are reachable from MMagic."""
import pytest
import torch
from mmengine.registry import DefaultScope

import mm_cyclegan  # noqa: F401


def test_build_from_mmagic_registry_with_scope_prefix():
    from mmagic.registry import MODELS as MMAGIC_MODELS
    with DefaultScope.overwrite_default_scope('mmagic'):
        ours = MMAGIC_MODELS.build(dict(
            type='mm_cyclegan.ResnetGenerator', in_channels=3,
            out_channels=3, base_channels=4, num_blocks=1))
        theirs = MMAGIC_MODELS.build(dict(
            type='ResnetGenerator', in_channels=3, out_channels=3,
            base_channels=4, num_blocks=1))
    assert type(ours).__module__.startswith('mm_cyclegan.')
    assert type(theirs).__module__.startswith('mmagic.')
    assert ours(torch.zeros(1, 3, 16, 16)).shape == (1, 3, 16, 16)


@pytest.mark.parametrize('registry, name', [
    ('MODELS', 'CycleGAN'), ('HOOKS', 'ImagePoolHook'),
    ('HOOKS', 'RNGStateHook'), ('HOOKS', 'TranslationVisualizationHook'),
    ('DATASETS', 'UnpairedImageDataset'),
    ('DATA_SAMPLERS', 'UnpairedEpochSampler'),
    ('PARAM_SCHEDULERS', 'LinearDecayLR'),
    ('LOOPS', 'EpochsAsItersTrainLoop'), ('RUNNERS', 'CycleGANRunner'),
    ('OPTIM_WRAPPER_CONSTRUCTORS', 'CycleGANOptimWrapperConstructor'),
])
def test_components_are_registered_in_our_scope(registry, name):
    from mm_cyclegan import registry as ours
    reg = getattr(ours, registry)
    assert reg.scope == 'mm_cyclegan'
    assert reg.get(name) is not None
    assert name in reg.module_dict  # ours, not inherited from a parent
