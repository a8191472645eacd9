"""The Python API: Translator on arrays, PIL images, paths and tensors."""
import numpy as np
import pytest
import torch
from PIL import Image

from mm_cyclegan.apis import Translator, init_translator
from mm_cyclegan.apis.inference import precision as precision_mod
from mm_cyclegan.apis.inference.image_arrays import from_network, to_network
from tests.apis.fixtures import pad_run_crop, write_checkpoint


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'iter_7.pth'
    gens = write_checkpoint(path)
    return path, gens


@pytest.fixture(scope='module')
def translator(checkpoint):
    return Translator.from_file(checkpoint[0], precision='fp32')


def _expected(generator, pixels, channels=3):
    """Our reference: the dataset's float conversion, pad, run, crop."""
    values = to_network(pixels, channels)
    x = torch.from_numpy(values).permute(2, 0, 1)[None]
    y = pad_run_crop(generator, x)[0].permute(1, 2, 0).numpy()
    return from_network(y, pixels.dtype)


def _rgb(height, width, dtype=np.uint8, channels=3, seed=0):
    top = 65535 if dtype == np.uint16 else 255
    rng = np.random.default_rng(seed)
    return rng.integers(0, top + 1, (height, width, channels), dtype=dtype)


def test_metadata_without_config_or_runner(translator, checkpoint):
    info = translator.info
    assert info.kind == 'mm_cyclegan' and info.source == str(checkpoint[0])
    assert info.iterations == 7
    assert info.directions == ('a2b', 'b2a') == translator.directions
    assert info.domains == ('photo', 'anime')
    assert info.channels == {'a': 3, 'b': 3}
    assert info.architecture['a2b']['type'] == 'ResnetGenerator'
    assert info.architecture['a2b']['base_channels'] == 8
    assert translator.precision == 'fp32' and str(translator.device) == 'cpu'


@pytest.mark.parametrize('height,width', [(131, 257), (64, 64), (3, 5)])
def test_array_any_size_matches_padded_generator(translator, checkpoint,
                                                 height, width):
    pixels = _rgb(height, width)
    out = translator(pixels)
    assert out.shape == pixels.shape and out.dtype == np.uint8
    expected = _expected(checkpoint[1]['a2b'], pixels)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_16_bit_stays_16_bit_and_alpha_is_kept(translator, checkpoint):
    pixels = _rgb(37, 29, np.uint16, channels=4)
    out = translator(pixels)
    assert out.dtype == np.uint16 and out.shape == (37, 29, 4)
    assert np.array_equal(out[..., 3], pixels[..., 3])
    expected = _expected(checkpoint[1]['a2b'], pixels)
    assert np.abs(out[..., :3].astype(int) - expected.astype(int)).max() <= 1
    # Values use the 16-bit range, not 8 bits scaled up.
    assert len(np.unique(out[..., :3])) > 256


def test_gray_input_keeps_its_shape_kind(translator):
    gray = _rgb(20, 24, channels=1)[..., 0]
    out = translator(gray)
    # An RGB domain repeats gray to RGB, so the output is RGB.
    assert out.shape == (20, 24, 3)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    assert np.array_equal(out, translator(rgb))


def test_grayscale_domain(tmp_path):
    path = tmp_path / 'gray.pth'
    gens = write_checkpoint(path, channels_a=3, channels_b=1)
    translator = Translator.from_file(path, precision='fp32')
    assert translator.info.channels == {'a': 3, 'b': 1}
    pixels = _rgb(33, 41)
    out = translator(pixels)
    assert out.shape == (33, 41, 1)
    back = translator(out, direction='b2a')
    assert back.shape == (33, 41, 3)
    # The b2a generator sees the luminance of an RGB input.
    expected = _expected(gens['b2a'], pixels, channels=1)
    assert np.abs(translator(pixels, 'b2a').astype(int)
                  - expected.astype(int)).max() <= 1
    assert translator(pixels[..., 0], 'anime2photo').shape == (33, 41, 3)


def test_pil_image_in_pil_image_out(translator):
    pixels = _rgb(40, 30)
    out = translator(Image.fromarray(pixels))
    assert isinstance(out, Image.Image) and out.mode == 'RGB'
    assert out.size == (30, 40)
    assert np.array_equal(np.asarray(out), translator(pixels))
    rgba = translator(Image.fromarray(_rgb(40, 30, channels=4)))
    assert rgba.mode == 'RGBA'
    gray16 = Image.fromarray(_rgb(16, 12, np.uint16, 1)[..., 0])
    assert gray16.mode == 'I;16'
    assert translator(gray16).mode == 'RGB'
    palette = Image.fromarray(_rgb(16, 12)).convert('P')
    assert translator(palette).mode == 'RGB'


def test_path_in_array_out_with_exif_orientation(translator, tmp_path):
    pixels = _rgb(20, 40)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise
    path = tmp_path / 'rotated.jpg'
    image.save(path, exif=exif, quality=95)
    out = translator(str(path))
    assert out.shape == (40, 20, 3)
    assert np.array_equal(translator(path), out)


def test_tensor_in_tensor_out(translator, checkpoint):
    x = torch.rand(2, 3, 45, 37) * 2 - 1
    y = translator(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    expected = pad_run_crop(checkpoint[1]['a2b'], x)
    assert (y - expected).abs().max().item() <= 1e-5
    assert translator(x[0]).shape == x[0].shape
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        translator(torch.zeros(1, 1, 8, 8))


def test_batches_of_same_size_match_single_images(translator):
    images = [_rgb(24, 32, seed=i) for i in range(3)] + [_rgb(17, 9)]
    together = translator.translate_batch(images, batch_size=3)
    alone = [translator(image) for image in images]
    for a, b in zip(together, alone):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_script_translating_a_list_of_arrays(checkpoint):
    # What a user writes in ten lines.
    import numpy as np

    from mm_cyclegan.apis import Translator
    translator = Translator.from_file(checkpoint[0], direction='a2b')
    photos = [np.zeros((50, 70, 3), np.uint8),
              np.full((64, 48, 3), 200, np.uint8)]
    results = [translator(photo) for photo in photos]
    for photo, result in zip(photos, results):
        assert result.shape == photo.shape and result.dtype == np.uint8


def test_max_side_downscales_keeping_aspect(translator):
    out = translator(_rgb(100, 60), max_side=50)
    assert out.shape == (50, 30, 3)
    assert translator(_rgb(20, 10), max_side=50).shape == (20, 10, 3)


def test_bad_inputs_raise_clear_errors(translator):
    with pytest.raises(TypeError, match='uint8 or uint16'):
        translator(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match='C in 1..4'):
        translator(np.zeros((8, 8, 5), np.uint8))
    with pytest.raises(TypeError, match='path, a PIL image'):
        translator([1, 2, 3])
    with pytest.raises(ValueError, match="'a2b'"):
        translator(np.zeros((8, 8, 3), np.uint8), direction='sideways')
    with pytest.raises(ValueError, match='CUDA'):
        if not torch.cuda.is_available():
            init_translator(translator.info.source, device='cuda')
        else:
            raise ValueError('CUDA present; nothing to check')


def test_only_available_directions(tmp_path):
    from tests.apis.fixtures import JunyanzResnet, randomise
    path = tmp_path / 'latest_net_G_B.pth'
    torch.save(randomise(JunyanzResnet(3, 3, 4, 1), 0).state_dict(), path)
    with pytest.raises(ValueError, match=r"available: \['b2a'\]"):
        Translator.from_file(path)
    assert Translator.from_file(path, 'b2a').directions == ('b2a', )


def test_precision_auto_is_fp32_without_native_bf16(monkeypatch, checkpoint):
    from mm_cyclegan.engine import precision as engine_precision
    monkeypatch.setattr(engine_precision, 'cpu_bf16_support',
                        lambda: engine_precision.Bf16Support(False, 'no'))
    resolved, message = precision_mod.resolve_precision('auto')
    assert resolved == 'fp32' and '--precision bf16' in message
    monkeypatch.setattr(engine_precision, 'cpu_bf16_support',
                        lambda: engine_precision.Bf16Support(True, 'yes'))
    assert precision_mod.resolve_precision('auto') == ('bf16', None)
    with pytest.raises(ValueError, match='fp8'):
        precision_mod.resolve_precision('fp8')
    # bf16 runs and stays close to fp32.
    fp32 = Translator.from_file(checkpoint[0], precision='fp32')
    bf16 = Translator.from_file(checkpoint[0], precision='bf16')
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y32, y16 = fp32(x), bf16(x)
    assert y16.dtype == torch.float32
    assert (y32 - y16).abs().max().item() < 0.1


def test_native_bf16_reads_cpu_flags(monkeypatch):
    # Inference asks the same detector as training.
    from mm_cyclegan.engine import precision as engine_precision
    for probe in ('_is_avx512_bf16_supported', '_is_amx_tile_supported'):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    monkeypatch.setattr(engine_precision, '_cpuinfo_flags',
                        lambda: {'avx2', 'avx512_bf16'})
    assert precision_mod.resolve_precision('auto', 'cpu')[0] == 'bf16'
    monkeypatch.setattr(engine_precision, '_cpuinfo_flags', lambda: {'avx2'})
    assert precision_mod.resolve_precision('auto', 'cpu')[0] == 'fp32'

