"""Mixed precision on the CPU: MixedPrecisionOptimWrapper and --amp."""
import argparse

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mm_cyclegan  # noqa: F401
from mm_cyclegan.apis.training import enable_amp, prepare_config
from mm_cyclegan.engine import (
    CycleGANOptimWrapperConstructor,
    MixedPrecisionOptimWrapper,
)
from mm_cyclegan.engine.precision import cpu_bf16_support
from mm_cyclegan.registry import MODELS
from tests.helpers import TINY_CONFIG

TINY_MODEL = dict(
    type='CycleGAN',
    generator_a2b=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=4, num_blocks=1),
    discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                         base_channels=4, num_conv=2,
                         norm_cfg=dict(type='IN')))


def _model_and_optim(wrapper=None, seed=0):
    init_default_scope('mm_cyclegan')
    torch.manual_seed(seed)
    model = MODELS.build(TINY_MODEL)
    model.init_weights()
    group = dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)))
    if wrapper:
        group.update(wrapper)
    optim = CycleGANOptimWrapperConstructor(
        dict(generators=dict(group), discriminators=dict(group)))(model)
    return model, optim


def _batch(seed=1, size=32):
    gen = torch.Generator().manual_seed(seed)
    return dict(img_a=torch.rand(1, 3, size, size, generator=gen) * 2 - 1,
                img_b=torch.rand(1, 3, size, size, generator=gen) * 2 - 1)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread (OpenMP barriers on an
    oversubscribed machine cost seconds per op)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


BF16 = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')


def test_both_optimisers_autocast_to_bf16_on_cpu():
    model, optim = _model_and_optim(BF16)
    for group in ('generators', 'discriminators'):
        wrapper = optim[group]
        assert isinstance(wrapper, MixedPrecisionOptimWrapper)
        assert wrapper.device_type == 'cpu'
        assert wrapper.cast_dtype == torch.bfloat16
        assert wrapper.loss_scaler is None  # bf16 needs no scaling
        with wrapper.optim_context(model):
            out = model.generator_a2b(_batch()['img_a'])
        assert out.dtype == torch.bfloat16
    # Outside the context nothing is cast.
    assert model.generator_a2b(_batch()['img_a']).dtype == torch.float32


def test_bf16_step_keeps_fp32_weights_losses_and_pools():
    from mm_cyclegan.engine import make_image_pools
    model, optim = _model_and_optim(BF16)
    model.set_image_pools(make_image_pools(2, 0.5, seed=1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logs = model.train_step(_batch(), optim)
    for name, value in logs.items():
        if isinstance(value, torch.Tensor):
            assert value.dtype == torch.float32, name
            assert torch.isfinite(value), name
    state = model.state_dict()
    assert all(v.dtype == torch.float32 for v in state.values()
               if v.is_floating_point())
    moved = [k for k in state if not torch.equal(state[k], before[k])]
    assert len(moved) > len(state) // 2
    for group in ('generators', 'discriminators'):
        for param_state in optim[group].optimizer.state.values():
            assert param_state['exp_avg'].dtype == torch.float32
    for pool in model.image_pools:
        images = pool.state_dict()['images']
        assert images and all(i.dtype == torch.float32 for i in images)


def test_bf16_step_close_to_fp32_step():
    batch = _batch()
    logs = {}
    for name, wrapper in (('fp32', None), ('bf16', BF16)):
        model, optim = _model_and_optim(wrapper)
        logs[name] = model.train_step(batch, optim)
    for key in ('loss_cycle_a', 'loss_cycle_b', 'loss_generators'):
        assert abs(logs['bf16'][key] - logs['fp32'][key]) <= \
            0.02 * abs(logs['fp32'][key]), key
    # Same weights, bf16 vs fp32 translation: within bf16 rounding.
    with torch.no_grad():
        fp32 = model.generator_a2b(batch['img_a'])
        with torch.autocast('cpu', dtype=torch.bfloat16):
            bf16 = model.generator_a2b(batch['img_a']).float()
    assert 0 < (fp32 - bf16).abs().max() <= 0.05


def test_fp16_dynamic_loss_scaling_skips_overflow_and_round_trips():
    model, optim = _model_and_optim(
        dict(type='MixedPrecisionOptimWrapper', dtype='float16',
             loss_scale=dict(init_scale=2.0**10, growth_interval=1)))
    wrapper = optim['generators']
    assert wrapper.cast_dtype == torch.float16
    assert wrapper.loss_scaler is not None
    param = next(model.generator_a2b.parameters())
    before = param.detach().clone()
    # An overflowing loss: the step is skipped and the scale backs off.
    with wrapper.optim_context(model):
        out = model.generator_a2b(_batch()['img_a'])
    wrapper.update_params(out.float().sum() * float('inf'))
    assert torch.equal(param.detach(), before)
    assert wrapper.loss_scaler.get_scale() == 2.0**9
    # A finite loss: the step happens and the scale grows again.
    with wrapper.optim_context(model):
        out = model.generator_a2b(_batch()['img_a'])
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(param.detach(), before)
    assert wrapper.loss_scaler.get_scale() == 2.0**10
    state = wrapper.state_dict()
    assert state['loss_scaler']['scale'] == 2.0**10
    _, fresh = _model_and_optim(
        dict(type='MixedPrecisionOptimWrapper', dtype='float16'))
    fresh['generators'].load_state_dict(state)
    assert fresh['generators'].loss_scaler.get_scale() == 2.0**10


def test_bf16_state_dict_is_a_plain_optimiser_state():
    _, optim = _model_and_optim(BF16)
    assert 'loss_scaler' not in optim['generators'].state_dict()
    # fp32 checkpoints load into a bf16 run and back.
    _, plain = _model_and_optim()
    optim['generators'].load_state_dict(plain['generators'].state_dict())
    plain['generators'].load_state_dict(optim['generators'].state_dict())


@pytest.mark.parametrize('kwargs, error', [
    (dict(dtype='float64'), ValueError),
    (dict(dtype='float16', loss_scale='big'), TypeError),
    (dict(device_type='tpu'), ValueError),
])
def test_invalid_options_are_rejected(kwargs, error):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1)
    with pytest.raises(error, match=str(list(kwargs.values())[-1])):
        MixedPrecisionOptimWrapper(optimizer, **kwargs)


def test_cpu_bf16_detection_matches_cpu_flags():
    support = cpu_bf16_support()
    with open('/proc/cpuinfo') as f:
        flags = next((line.split(':', 1)[1].split() for line in f
                      if line.startswith('flags')), [])
    assert support.native == bool({'avx512_bf16', 'amx_bf16'} & set(flags))
    assert ('no native bf16' in support.detail) != support.native


def _args(**kwargs):
    base = dict(config=TINY_CONFIG, cfg_options={}, work_dir='/tmp/x',
                launcher='none', resume=None, load_from=None, amp=False)
    base.update(kwargs)
    return argparse.Namespace(**base)


def test_amp_flag_and_config_switch_convert_both_optimisers():
    for args in (_args(amp=True), _args(cfg_options={'amp': True}),
                 _args(cfg_options={'amp': dict(dtype='float16')})):
        cfg = prepare_config(args)
        dtype = 'float16' if isinstance(cfg.get('amp'), dict) else 'auto'
        for group in ('generators', 'discriminators'):
            assert cfg.optim_wrapper[group].type == \
                'MixedPrecisionOptimWrapper'
            assert cfg.optim_wrapper[group].dtype == dtype
    cfg = prepare_config(_args())
    assert 'type' not in cfg.optim_wrapper.generators


def test_amp_refuses_an_unknown_wrapper_type():
    cfg = Config(dict(optim_wrapper=dict(
        generators=dict(type='MyWrapper'), discriminators=dict())))
    with pytest.raises(ValueError, match='MyWrapper'):
        enable_amp(cfg)
