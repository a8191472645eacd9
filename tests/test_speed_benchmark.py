"""benchmarks/speed.py in a 1-step smoke version, so that it cannot rot."""
import re

import pytest
import torch

from benchmarks import speed


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread (see test_optim_wrapper)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rows(report: str, section: str) -> list:
    """Table rows (cells) of one ``### section`` of the report."""
    part = report.split(f'### {section}')[1].split('###')[0]
    return [[c.strip() for c in line.strip('|').split('|')]
            for line in part.splitlines()
            if line.startswith('|') and not line.startswith('|---')][1:]


def test_smoke_run_reports_every_contender(tmp_path, capsys):
    out = tmp_path / 'speed.md'
    assert speed.main([
        '--smoke', '--steps', '1', '--warmup', '0', '--force-bf16',
        '--modes', 'fp32', 'bf16', 'channels_last', 'with_cp_all',
        '--workers', '0',
        '--data-steps', '1', '--data-size', '32', '--rss-modes',
        '--infer-reps', '1', '--out', str(out)]) == 0
    report = out.read_text()
    assert report.strip() in capsys.readouterr().out
    assert re.search(r'fp32 [\d.]+ GFLOP/s, bf16 [\d.]+ GFLOP/s', report)
    train = _rows(report, 'Training step')
    assert [r[1] for r in train] == ['MMagic 1.2.0', 'ours fp32',
                                     'ours bf16', 'ours channels_last',
                                     'ours with_cp_all']
    for row in train:
        seconds, ratio, flops = float(row[2]), float(row[3]), float(row[5])
        assert seconds > 0 and ratio > 0 and flops > 0
    # Same networks, same step: the FLOP counts agree, except that
    # checkpointing runs every generator forward twice.
    assert len({r[5] for r in train[:-1]}) == 1
    assert float(train[-1][5]) > float(train[0][5])
    assert len(_rows(report, 'Data loading share')) == 1
    infer = _rows(report, 'Generator inference')
    assert [r[1] for r in infer] == ['MMagic 1.2.0', 'ours fp32',
                                     'ours bf16', 'ours channels_last']
    assert float(infer[2][4]) > 30  # bf16 output close to fp32 output
    adam = _rows(report, 'Optimiser step')
    assert [r[0] for r in adam] == ['torch default (MMagic)', 'fused (ours)']
    pads = _rows(report, 'Reflection padding')
    assert [r[2] for r in pads] == ['torch pad (fp32 round trip)',
                                    'ours (bf16)']
    # Only the first pad (of the fp32 image) still casts with ours.
    torch_casts, our_casts = int(pads[0][4]), int(pads[1][4])
    assert our_casts == 2 and torch_casts > our_casts


def test_rss_child_reports_peak_rss(capsys):
    assert speed.rss_child('fp32', 32, smoke=True) == 0
    peak = float(capsys.readouterr().out.split('PEAK_RSS_MB')[1])
    assert peak > 100  # at least the interpreter and torch


def test_rss_child_measures_itself_not_its_parent():
    """A child of a large process reports its own peak (Linux keeps
    ``ru_maxrss`` across exec; the benchmark must not)."""
    import argparse
    ballast = torch.ones(2 * 1024**3 // 4)  # 2 GB of touched pages
    parent_peak = speed.peak_rss_mb()
    child = speed.measure_rss(
        argparse.Namespace(rss_size=32, smoke=True), 'fp32')
    del ballast
    assert child is not None and 100 < child < parent_peak - 1500
