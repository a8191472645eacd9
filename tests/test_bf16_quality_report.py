"""The bf16 quality guard's verdicts (``benchmarks/bf16_quality.py``),
on hand-made scores: no training."""
from __future__ import annotations

from benchmarks import bf16_quality


def _scores(a2b: float, b2a: float, agreement: float = 50.0) -> dict:
    scores = {}
    for d, value in (('a2b', a2b), ('b2a', b2a)):
        scores.update({f'{d}_psnr': value, f'{d}_ssim': 0.5,
                       f'{d}_color': 5.0,
                       f'{d}_bf16_vs_fp32_psnr': agreement,
                       f'{d}_bf16_vs_fp32_psnr_min': agreement - 3})
    return scores


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_single_pair_uses_the_literal_two_sided_target():
    text, ok = bf16_quality.report({'f': _scores(20.0, 28.0)},
                                   {'b': _scores(20.2, 27.8)})
    assert ok
    assert _row(text, '| bf16 #1 − fp32 #1').endswith('| yes |')
    text, ok = bf16_quality.report({'f': _scores(20.0, 28.0)},
                                   {'b': _scores(20.5, 28.0)})
    assert not ok


def test_several_seeds_compare_means_with_their_noise():
    fp32 = {'f0': _scores(18.0, 26.0), 'f1': _scores(20.0, 29.0),
            'f2': _scores(19.0, 27.5)}
    # a2b 1.0 dB above the fp32 mean with ~0.8 dB standard error:
    # unresolved; b2a within 0.3 dB of it: holds.
    bf16 = {'b0': _scores(21.0, 27.5), 'b1': _scores(19.0, 27.4),
            'b2': _scores(20.0, 27.6)}
    text, ok = bf16_quality.report(fp32, bf16)
    assert ok
    row = _row(text, '| mean bf16 − mean fp32 (3 vs 3 runs)')
    assert '+1.00 ±' in row and 'unresolved / yes' in row
    # a2b medians 20.0 vs 19.0, b2a 27.5 vs 27.5.
    assert _row(text, '| median bf16 − median fp32').startswith(
        '| median bf16 − median fp32, PSNR dB | +1.00 | +0.00 |')
    assert _row(text, '| mean of bf16 against the fp32 band').endswith(
        '| yes |')


def test_bf16_clearly_below_the_fp32_runs_fails():
    fp32 = {'f0': _scores(20.0, 28.0), 'f1': _scores(20.1, 28.1)}
    bf16 = {'b0': _scores(17.0, 25.0), 'b1': _scores(17.1, 25.1)}
    text, ok = bf16_quality.report(fp32, bf16)
    assert not ok
    assert 'NO / NO' in _row(text, '| mean bf16 − mean fp32')
    assert _row(text, '| mean of bf16 against the fp32 band').endswith(
        '| NO |')


def test_bf16_inference_far_from_fp32_fails():
    _, ok = bf16_quality.report({'f': _scores(20.0, 28.0, 30.0)},
                                {'b': _scores(20.0, 28.0)})
    assert not ok


def test_seeds_name_one_fp32_and_one_bf16_run_per_seed():
    args = bf16_quality.parse_args(['--seeds', '3', '4', '--work-root',
                                    'w'])
    runs = bf16_quality._runs(args)
    assert [(r[0], r[1], r[2]) for r in runs] == [
        ('w/seed3_fp32', False, 3), ('w/seed3_bf16', True, 3),
        ('w/seed4_fp32', False, 4), ('w/seed4_bf16', True, 4)]
