"""benchmarks/readme_figure.py: the README figure's rows and layout."""
import numpy as np
import pytest
from PIL import Image

from benchmarks import readme_figure
from tests.apis.fixtures import write_checkpoint


def _photos(folder, names):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)


def test_pick_spaces_rows_evenly_over_the_sorted_matches(tmp_path):
    names = [f'animegan_real_{i:02d}.png' for i in range(11)] + ['x.png']
    _photos(tmp_path / 'in', names)
    picked = readme_figure.pick(str(tmp_path / 'in'), 'animegan_real_*', 3)
    assert [p.rsplit('/', 1)[1] for p in picked] == [
        'animegan_real_00.png', 'animegan_real_05.png',
        'animegan_real_10.png']
    with pytest.raises(SystemExit, match='2 files match'):
        readme_figure.pick(str(tmp_path / 'in'), '*_0[01].png', 3)


def test_figure_is_input_then_translation_per_row(tmp_path):
    _photos(tmp_path / 'in', [f'animegan_real_{i}.png' for i in range(4)])
    gens = write_checkpoint(tmp_path / 'w.pth')
    out = tmp_path / 'fig.png'
    assert readme_figure.main([str(tmp_path / 'w.pth'),
                               str(tmp_path / 'in'), '--rows', '2',
                               '--size', '24', '--out', str(out)]) == 0
    with Image.open(out) as fig:
        canvas = np.asarray(fig.convert('RGB'))
    gap = readme_figure.GAP
    assert canvas.shape == (2 * 24 + gap, 2 * 24 + gap, 3)
    first = readme_figure.square(str(tmp_path / 'in' /
                                     'animegan_real_0.png'), 24)
    assert np.array_equal(canvas[:24, :24], first)
    # The right tile is the a2b generator's output, not the input.
    import torch
    with torch.no_grad():
        x = torch.from_numpy(first).permute(2, 0, 1)[None].float()
        y = gens['a2b'](x / 127.5 - 1).clamp(-1, 1)
    expected = ((y[0].permute(1, 2, 0) + 1) * 127.5).round().numpy()
    assert np.abs(canvas[:24, 24 + gap:] - expected).max() <= 1


@pytest.mark.parametrize('option', [['--rows', '7'], ['--size', '300']])
def test_figure_limits(option, tmp_path, capsys):
    with pytest.raises(SystemExit):
        readme_figure.main(['w.pth', str(tmp_path), *option])
    assert 'must be in' in capsys.readouterr().err
