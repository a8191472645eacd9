"""One precision vocabulary and one meaning of 'auto', for training
(MixedPrecisionOptimWrapper, --amp) and inference (Translator)."""
import pytest
import torch

from mm_cyclegan.apis.inference import precision as inference_precision
from mm_cyclegan.engine import optim_wrapper
from mm_cyclegan.engine import precision as engine_precision

DTYPES = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
SPELLINGS = [('fp32', 'float32'), ('bf16', 'bfloat16'), ('fp16', 'float16')]


def _params():
    return [torch.nn.Parameter(torch.zeros(2))]


def _training(dtype, device_type='cpu'):
    """(resolved short name, message) the way a training run sees it."""
    cast, message = optim_wrapper.resolve_dtype(dtype, device_type)
    name = {v: k for k, v in DTYPES.items()}[cast]
    return name, message


def _fake_hardware(monkeypatch, cpu_native, gpu_bf16):
    monkeypatch.setattr(
        engine_precision, 'cpu_bf16_support',
        lambda: engine_precision.Bf16Support(cpu_native, 'faked'))
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported',
                        lambda including_emulation=True: gpu_bf16)


@pytest.mark.parametrize('short, long', SPELLINGS)
def test_both_spellings_mean_the_same_in_both_places(short, long):
    assert inference_precision.resolve_precision(short) == (short, None)
    assert inference_precision.resolve_precision(long) == (short, None)
    assert _training(short) == _training(long) == (short, None)
    for name in (short, long):
        wrapper = optim_wrapper.MixedPrecisionOptimWrapper(
            torch.optim.SGD(_params(), lr=1), dtype=name)
        assert wrapper.cast_dtype is DTYPES[short]


@pytest.mark.parametrize('short, long', SPELLINGS)
def test_translator_takes_both_spellings(short, long):
    from mm_cyclegan.apis.inference.translator import ModelInfo, Translator
    info = ModelInfo(kind='test', source='-', architecture='-',
                     iterations=None, directions=('a2b', ),
                     domains=('a', 'b'), channels={'a': 3, 'b': 3})
    gen = {'a2b': torch.nn.Identity()}
    assert Translator(gen, info, precision=long).precision == short


def test_a_bad_name_names_the_options_in_both_places():
    with pytest.raises(ValueError) as err:
        inference_precision.resolve_precision('half')
    assert "'half'" in str(err.value) and 'precision' in str(err.value)
    for name in ('auto', 'bf16', 'bfloat16', 'float16', 'fp32'):
        assert repr(name) in str(err.value)
    with pytest.raises(ValueError) as err:
        optim_wrapper.MixedPrecisionOptimWrapper(
            torch.optim.SGD(_params(), lr=1), dtype='half')
    assert 'dtype' in str(err.value) and "'bfloat16'" in str(err.value)


@pytest.mark.parametrize('cpu_native, gpu_bf16, device, expected', [
    (True, False, 'cpu', 'bf16'),
    (False, True, 'cpu', 'fp32'),
    (True, True, 'cuda', 'bf16'),
    (False, False, 'cuda', 'fp16'),
    (True, False, 'cuda:1', 'fp16'),
])
def test_auto_resolves_identically_for_training_and_inference(
        monkeypatch, cpu_native, gpu_bf16, device, expected):
    _fake_hardware(monkeypatch, cpu_native, gpu_bf16)
    inference, _ = inference_precision.resolve_precision('auto', device)
    training, _ = _training('auto', device.split(':')[0])
    assert inference == training == expected


def test_auto_on_cpu_without_native_bf16_is_fp32_in_one_line(monkeypatch):
    _fake_hardware(monkeypatch, False, False)
    name, message = inference_precision.resolve_precision('auto')
    assert name == 'fp32'
    assert '\n' not in message and 'avx512_bf16' in message
    assert '--precision bf16' in message
    name, message = _training('auto')
    assert name == 'fp32' and '\n' not in message
    assert 'amp.dtype=bfloat16' in message
    # An explicit bf16 is still honoured (emulated) and needs no message.
    assert _training('bfloat16') == ('bf16', None)


def test_forced_bf16_on_a_cpu_without_it_warns_and_autocasts(monkeypatch):
    _fake_hardware(monkeypatch, False, False)
    monkeypatch.setattr(optim_wrapper, 'cpu_bf16_support',
                        engine_precision.cpu_bf16_support)
    logged = []
    monkeypatch.setattr(optim_wrapper, '_warned', set())
    monkeypatch.setattr(optim_wrapper, 'print_log',
                        lambda msg, logger=None, level=20: logged.append(
                            (level, msg)))
    wrapper = optim_wrapper.MixedPrecisionOptimWrapper(
        torch.optim.SGD(_params(), lr=1), dtype='bfloat16')
    assert wrapper.cast_dtype == torch.bfloat16
    assert any(level == 30 and 'SLOWER' in msg for level, msg in logged)


def test_amp_cfg_option_forces_bf16():
    import argparse

    from mm_cyclegan.apis.training import prepare_config
    from tests.helpers import TINY_CONFIG
    args = argparse.Namespace(
        config=TINY_CONFIG, cfg_options={'amp.dtype': 'bfloat16'},
        work_dir='/tmp/x', launcher='none', resume=None, load_from=None,
        amp=False)
    cfg = prepare_config(args)
    for group in ('generators', 'discriminators'):
        assert cfg.optim_wrapper[group].type == 'MixedPrecisionOptimWrapper'
        assert cfg.optim_wrapper[group].dtype == 'bfloat16'


def test_autocast_dtype_needs_a_resolved_name():
    assert engine_precision.autocast_dtype('bfloat16') is torch.bfloat16
    assert engine_precision.autocast_dtype('fp32') is None
    with pytest.raises(ValueError, match='auto'):
        engine_precision.autocast_dtype('auto')
