"""benchmarks/realdata.py: a 1-seed smoke run on tiny images, and the
checks behind its measures (realism ranking, wrecked rule, refusal)."""
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from PIL import Image

from benchmarks import realdata, realdata_classifier, realdata_metrics
from benchmarks.realdata_data import load_split, record_train_stream
from benchmarks.realdata_report import summary_table, wrecked
from mm_cyclegan.evaluation import (
    InceptionWeightsMissing,
    find_inception_weights,
)
from tests.helpers import make_image_folder, shared_data

SIZE = 16


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _options(tmp_path, *extra):
    return ['--dataset', 'horse2zebra', '--data-root',
            str(tmp_path / 'data'), '--seeds', '0', '--iters', '3',
            '--size', str(SIZE), '--classifier-epochs', '1',
            '--warmup', '0', '--threads', '1', '--grid-rows', '3',
            '--log-interval', '1', '--work-dir', str(tmp_path / 'work'),
            *extra]


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    """One tiny run (random 24 px images, 3 iterations, threshold 0)."""
    tmp_path = tmp_path_factory.mktemp('realdata')
    make_image_folder(tmp_path / 'data' / 'horse2zebra', count=10,
                      size=(24, 24))
    code = realdata.main(_options(tmp_path, '--min-accuracy', '0'))
    out = tmp_path / 'work' / 'horse2zebra'
    return dict(tmp=tmp_path, code=code, out=out,
                report=(out / 'realdata.md').read_text(),
                data=json.loads((out / 'realdata.json').read_text()))


def _rows(report):
    return [[c.strip() for c in line.strip('|').split('|')]
            for line in report.splitlines()
            if line.startswith('|') and not line.startswith('|---')]


def test_smoke_run_scores_both_models(smoke):
    assert smoke['code'] == 0
    rows = _rows(smoke['report'])
    labels = [r[0] for r in rows]
    # Summary (identity, ours, MMagic) then one line per run.
    assert labels.count('model') == 2
    assert labels.count('ours') == 2
    assert labels.count('MMagic 1.2.0 built-in') == 2
    assert 'identity (input as output)' in labels
    runs = smoke['data']['runs']
    assert sorted(r['model'] for r in runs) == ['mmagic', 'ours']
    for run in runs:
        for direction in ('a2b', 'b2a'):
            scores = run[direction]
            assert 0.0 <= scores['success'] <= 1.0
            assert -1.0 <= scores['ssim'] <= 1.0
            assert scores['cycle_l1'] > 0.0
            assert math.isfinite(scores['pattern'])
        assert run['seconds'] > 0.0
    identity = smoke['data']['identity']['a2b']
    assert identity['ssim'] == pytest.approx(1.0)
    assert identity['cycle_l1'] == 0.0


def test_smoke_run_writes_grid_and_fid_status(smoke):
    grid = Image.open(smoke['out'] / 'grid_seed0.png')
    # 3 rows; a | ours | MMagic, a gap, b | ours | MMagic.
    assert grid.size == (6 * SIZE + 4, 3 * SIZE)
    assert 'grid_seed0.png' in smoke['report']
    try:
        find_inception_weights()
        assert 'inception_a2b_fid' in smoke['data']['runs'][0]
    except InceptionWeightsMissing:
        assert 'FID/KID (Inception): not computed' in smoke['report']
    assert f'test accuracy {smoke["data"]["classifier_accuracy"]:.3f}' \
        in smoke['report']


def test_refuses_to_score_with_a_weak_classifier(smoke, capsys):
    # Random images: the (cached) classifier cannot be perfect.
    assert smoke['data']['classifier_accuracy'] < 1.0
    out = smoke['tmp'] / 'refused'
    code = realdata.main(_options(smoke['tmp'], '--min-accuracy', '1',
                                  '--out-dir', str(out)))
    assert code == 3
    assert 'refusing to score' in capsys.readouterr().err
    assert not osp.exists(out / 'realdata.md')


def test_wrecked_is_relative_to_the_mean_of_all_runs():
    def run(a2b, b2a):
        return dict(a2b=dict(ssim=a2b), b2a=dict(ssim=b2a))

    runs = {('ours', 0): run(0.63, 0.64), ('ours', 1): run(0.66, 0.63),
            ('mmagic', 0): run(0.58, 0.65), ('mmagic', 1): run(0.60, 0.25),
            ('mmagic', 2): run(0.21, 0.62)}
    flags = wrecked(runs)
    means = [sum(r[d]['ssim'] for r in runs.values()) / len(runs)
             for d in ('a2b', 'b2a')]
    for key, value in runs.items():
        expected = (value['a2b']['ssim'] < means[0] - 0.2
                    or value['b2a']['ssim'] < means[1] - 0.2)
        assert flags[key] == expected
    assert sum(flags.values()) == 2


def test_summary_adds_a_row_without_the_wrecked_runs():
    """MMagic has a wrecked run: its summary row keeps all three seeds,
    a second row averages only the two that kept their content; ours has
    none, so one row."""
    def run(ssim, kid):
        scores = dict(success=0.5, ssim=ssim, kid=kid, cycle_l1=0.1,
                      pattern=1.0)
        return dict(a2b=scores, b2a=scores, seconds=1.0)

    runs = {('ours', s): run(0.6, 0.9) for s in range(3)}
    runs.update({('mmagic', 0): run(0.5, 1.2), ('mmagic', 1): run(0.5, 0.8),
                 ('mmagic', 2): run(0.1, 0.4)})
    identity = {d: dict(success=0.1, ssim=1.0, kid=3.0, cycle_l1=0.0,
                        pattern=0.0) for d in ('a2b', 'b2a')}
    rows = _rows(summary_table(runs, identity, ('horse', 'zebra')))
    labels = [r[0] for r in rows]
    assert labels == ['model', 'identity (input as output)', 'ours',
                      'MMagic 1.2.0 built-in',
                      'MMagic 1.2.0 built-in, not wrecked']
    everything, kept = rows[3], rows[4]
    assert everything[1] == '0 1 2' and kept[1] == '0 1'
    kid = rows[0].index('horse→zebra realism KID')
    assert everything[kid] == '0.800 (0.400–1.200)'
    assert kept[kid] == '1.000 (0.800–1.200)'
    assert everything[-2] == '1/3' and kept[-2] == '0/2'


def _real_subset(tmp_path, count_train, count_test):
    """The first images of shared horse2zebra, linked into tmp_path."""
    source = shared_data('horse2zebra')
    if not osp.isdir(source):
        pytest.skip(f'shared data {source} not found')
    for split, count in (('train', count_train), ('test', count_test)):
        for domain in 'AB':
            folder = tmp_path / f'{split}{domain}'
            folder.mkdir()
            names = sorted(os.listdir(osp.join(source, f'{split}{domain}')))
            for name in names[:count]:
                os.symlink(osp.join(source, f'{split}{domain}', name),
                           folder / name)
    return str(tmp_path)


def test_realism_kid_ranks_degraded_real_images_worse(tmp_path):
    size, fit = 32, 50
    root = _real_subset(tmp_path, fit + 25, 25)
    # Whole images at the test size: flips are the only augmentation.
    train = load_split(root, 'train', size)
    test = load_split(root, 'test', size)
    fitted = torch.cat([train['a'][:fit], train['b'][:fit]])
    model = realdata_classifier.train_classifier(
        train['a'][:fit], train['b'][:fit], size, seed=0, epochs=8,
        log=lambda message: None)
    realdata_classifier.fit_feature_scale(model, fitted)
    for domain in 'ab':
        # Real images the classifier never saw vs the test set.
        scores = realdata_metrics.realism_check(
            model, train[domain][fit:], test[domain])
        kid, pattern = scores['kid'], scores['pattern']
        for name in ('blurred', 'noised', 'colour_shifted'):
            assert kid[name] > kid['real'] + 0.2, (domain, scores)
        assert set(pattern) == {'real', 'cross_hatched'}


def test_pattern_db_sees_a_faint_cross_hatch(tmp_path):
    """What the pattern column is for: +-10 levels of a 4 px cross-hatch
    on real images (at the benchmark's default 64 px)."""
    root = _real_subset(tmp_path, 0, 25)
    test = load_split(root, 'test', 64)
    for domain in 'ab':
        real = realdata_metrics.pattern_db(test[domain])
        hatched = realdata_metrics.pattern_db(
            realdata_metrics.cross_hatch(test[domain]))
        assert hatched > real + 1.0, (domain, real, hatched)


def test_recorded_stream_does_not_depend_on_workers(tmp_path):
    root = make_image_folder(tmp_path, count=3, size=(24, 24))
    streams = [record_train_stream(root, SIZE, 7, seed=1, workers=w)
               for w in (0, 2)]
    other_seed = record_train_stream(root, SIZE, 7, seed=2)
    assert len(streams[0]) == 7
    for x, y in zip(*streams):
        assert torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])
    assert any(not torch.equal(x[0], y[0])
               for x, y in zip(streams[0], other_seed))


def test_score_rates_trained_weights_like_the_benchmark(tmp_path):
    """benchmarks/realdata_score.py: the identity row, then one row per
    weights file (named run/file; a file given twice is one row), with
    the benchmark's measures of its generators' translations."""
    from benchmarks import realdata_score
    from tests.apis.fixtures import write_checkpoint

    make_image_folder(tmp_path / 'data' / 'horse2zebra', count=10,
                      size=(24, 24))
    weights = tmp_path / 'run' / 'iter_7.pth'
    weights.parent.mkdir()
    write_checkpoint(weights, domains=('horse', 'zebra'))
    out = tmp_path / 'out'
    code = realdata_score.main([
        str(weights), str(weights), '--dataset', 'horse2zebra',
        '--data-root', str(tmp_path / 'data'), '--size', str(SIZE),
        '--classifier-epochs', '1', '--threads', '1', '--min-accuracy',
        '0', '--grid-rows', '3', '--work-dir', str(tmp_path / 'work'),
        '--out-dir', str(out)])
    assert code == 0
    rows = _rows((out / 'score.md').read_text())
    assert [r[0] for r in rows] == ['weights', 'identity (input as output)',
                                    'run/iter_7.pth']
    scores = json.loads((out / 'score.json').read_text())['scores']
    ours = scores['run/iter_7.pth']
    # Random generators change the image: SSIM below the identity's 1.
    assert ours['a2b']['ssim'] < scores[
        'identity (input as output)']['a2b']['ssim']
    assert ours['b2a']['cycle_l1'] > 0.0
    with Image.open(out / 'score_grid.png') as grid:
        assert grid.size == (4 * SIZE + 4, 3 * SIZE)


def test_score_refuses_a_missing_weights_file(tmp_path, capsys):
    from benchmarks import realdata_score

    with pytest.raises(SystemExit):
        realdata_score.main([str(tmp_path / 'nope.pth'), '--dataset',
                             'horse2zebra'])
    assert 'weights file not found' in capsys.readouterr().err


def _run_in_fresh_python(args, timeout=600):
    """Forking from pytest's own process could inherit another test's
    threads and their locks; a fresh interpreter has none, and a hang
    fails the test instead of blocking the suite."""
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    return subprocess.run([sys.executable, *args], cwd=repo,
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))


def test_parallel_training_gives_the_same_models(smoke, tmp_path):
    """--parallel trains ours and MMagic's side by side in forked
    one-thread processes: the same models, so the same scores, as one
    after the other on one thread."""
    out = tmp_path / 'parallel'
    done = _run_in_fresh_python(
        ['benchmarks/realdata.py',
         *_options(smoke['tmp'], '--min-accuracy', '0', '--parallel',
                   '--out-dir', str(out))])
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((out / 'realdata.json').read_text())
    assert 'side by side' in (out / 'realdata.md').read_text()
    for serial, parallel in zip(smoke['data']['runs'], data['runs']):
        assert serial['model'] == parallel['model']
        for direction in ('a2b', 'b2a'):
            assert parallel[direction] == serial[direction]
        assert parallel['seconds'] > 0.0


FORKED_PROBE = """
import torch
from benchmarks.forked import run_forked
assert torch.equal(run_forked({'x': lambda: torch.ones(2)})['x'],
                   torch.ones(2))
def broken():
    raise ValueError('planted')
run_forked({'good': lambda: torch.ones(2), 'bad': broken})
"""


def test_forked_job_failure_names_the_job():
    done = _run_in_fresh_python(['-c', FORKED_PROBE], timeout=120)
    assert done.returncode == 1
    assert re.search(r'(?s)RuntimeError: forked jobs failed: bad .*'
                     r'ValueError: planted', done.stderr), done.stderr


def _lever_config(tmp_path, **model):
    """Our horse2zebra recipe with ``model`` changed (a lever)."""
    path = tmp_path / 'lever.py'
    recipe = osp.join(realdata.REPO, 'configs', realdata.RECIPES[
        'horse2zebra'])
    path.write_text(f'_base_ = [{recipe!r}]\nmodel = dict(**{model!r})\n')
    return str(path)


def _without_wrecked(run):
    return {k: v for k, v in run.items() if k != 'wrecked'}


def test_baseline_reuse_trains_only_ours(smoke, tmp_path):
    """A lever that changes only our model: MMagic's runs are read from
    the earlier run, ours is trained with the lever."""
    out = tmp_path / 'lever'
    code = realdata.main(_options(
        smoke['tmp'], '--min-accuracy', '0', '--out-dir', str(out),
        '--config', _lever_config(
            tmp_path, identity_anneal=dict(end_weight=0.05, end=0.5)),
        '--baseline-from', str(smoke['out'] / 'realdata.json')))
    assert code == 0
    data = json.loads((out / 'realdata.json').read_text())
    before = {r['model']: r for r in smoke['data']['runs']}
    after = {r['model']: r for r in data['runs']}
    assert _without_wrecked(after['mmagic']) == _without_wrecked(
        before['mmagic'])
    assert after['ours']['a2b'] != before['ours']['a2b']
    text = (out / 'realdata.md').read_text()
    assert 'reused from' in text
    assert ('identity 0.5 x cycle, annealed to 0.05 between 0% and 50% of '
            'the run') in text
    # Only ours was translated: a | ours || b | ours.
    grid = Image.open(out / 'grid_seed0.png')
    assert grid.size == (4 * SIZE + 4, 3 * SIZE)


LEVERS = {
    # Ours' initial weights are MMagic's: another init, another run.
    'init gain': (dict(generator_a2b=dict(init_cfg=dict(
        type='normal', gain=0.05))), ''),
    'pool 10': ({}, 'custom_hooks = [dict(type="ImagePoolHook", '
                'pool_size=10)]\n'),
}


@pytest.mark.parametrize('extra, message', [
    (('--iters', '4'), '--iters 3 there, 4 here'),
    (('--seeds', '0', '1'), 'no MMagic run for seed(s) 1'),
    (('--config', 'init gain'),
     "MMagic's initial weights for seed 0 differ"),
    (('--config', 'pool 10'), "MMagic's image buffer size would be 10 "
     'here, 50 there'),
])
def test_baseline_refuses_another_mmagic_run(smoke, tmp_path, capsys,
                                             extra, message):
    """Reusing MMagic's runs is refused when MMagic would train
    differently here: other options, seeds, initial weights, buffer."""
    extra = list(extra)
    if extra[-1] in LEVERS:
        model, more = LEVERS[extra[-1]]
        extra[-1] = _lever_config(tmp_path, **model)
        with open(extra[-1], 'a') as f:
            f.write(more)
    out = tmp_path / 'refused'
    code = realdata.main(_options(
        smoke['tmp'], '--min-accuracy', '0', '--out-dir', str(out),
        '--baseline-from', str(smoke['out'] / 'realdata.json'), *extra))
    assert code == 2
    assert message in capsys.readouterr().err
    assert not osp.exists(out / 'realdata.md')


def test_baseline_refuses_another_data_stream(smoke, tmp_path, capsys):
    data = json.loads(json.dumps(smoke['data']))
    data['seeds'][0]['stream_sha256'] = '0' * 16
    planted = tmp_path / 'realdata.json'
    planted.write_text(json.dumps(data))
    code = realdata.main(_options(
        smoke['tmp'], '--min-accuracy', '0', '--out-dir',
        str(tmp_path / 'out'), '--baseline-from', str(planted)))
    assert code == 2
    assert 'seed 0 recorded data stream' in capsys.readouterr().err


def test_finished_seeds_are_reported_when_a_later_one_fails(
        smoke, tmp_path, monkeypatch):
    set_up = realdata.set_up_seed

    def failing(args, ready, recipe, seed, baseline):
        if seed == 1:
            raise KeyboardInterrupt
        return set_up(args, ready, recipe, seed, baseline)

    monkeypatch.setattr(realdata, 'set_up_seed', failing)
    out = tmp_path / 'partial'
    with pytest.raises(KeyboardInterrupt):
        realdata.main(_options(smoke['tmp'], '--min-accuracy', '0',
                               '--out-dir', str(out), '--seeds', '0', '1'))
    text = (out / 'realdata.md').read_text()
    assert '**partial**: seeds 0 of 0 1 done so far' in text
    runs = json.loads((out / 'realdata.json').read_text())['runs']
    assert sorted((r['model'], r['seed']) for r in runs) == [
        ('mmagic', 0), ('ours', 0)]


def test_baseline_reuse_trains_two_seeds_at_once(smoke, tmp_path):
    """With --parallel only ours trains, two seeds in forked one-thread
    processes: each seed gets back its own model (the same scores as the
    baseline's ours, trained one after the other with the same config)."""
    two = ('--seeds', '0', '1', '--min-accuracy', '0')
    baseline = tmp_path / 'baseline'
    assert realdata.main(_options(smoke['tmp'], *two, '--out-dir',
                                  str(baseline))) == 0
    out = tmp_path / 'reuse'
    done = _run_in_fresh_python(
        ['benchmarks/realdata.py',
         *_options(smoke['tmp'], *two, '--parallel', '--out-dir', str(out),
                   '--baseline-from', str(baseline / 'realdata.json'))])
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'only ours trained, two seeds at once' in (
        out / 'realdata.md').read_text()
    before = json.loads((baseline / 'realdata.json').read_text())['runs']
    after = json.loads((out / 'realdata.json').read_text())['runs']
    key = lambda r: (r['model'], r['seed'])  # noqa: E731
    for old, new in zip(sorted(before, key=key), sorted(after, key=key)):
        assert key(old) == key(new)
        for direction in ('a2b', 'b2a'):
            assert new[direction] == old[direction]
    # The two seeds trained different models.
    ours = [r for r in sorted(after, key=key) if r['model'] == 'ours']
    assert ours[0]['a2b'] != ours[1]['a2b']


def test_report_names_each_generators_upsampling():
    from benchmarks.realdata_notes import _model_line
    gen = dict(base_channels=16, num_blocks=4, upsample_mode='resize_conv')
    model = dict(generator_a2b=gen, discriminator_b=dict(
        base_channels=16, num_conv=2))
    assert ', resize_conv;' in _model_line(model, (50, 0.5))
    model['generator_b2a'] = dict(gen, upsample_mode='deconv')
    assert 'a2b resize_conv, b2a deconv;' in _model_line(model, (50, 0.5))
