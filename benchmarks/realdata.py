"""Translation quality on real photos: ours vs. MMagic 1.2.0's CycleGAN.

For each seed, our CycleGAN (a recipe's model settings, by default at the
demo's network size) and MMagic 1.2.0's built-in ``CycleGAN`` are trained
(side by side in two one-thread processes with ``--threads 2``, else one
after the other) with the same data stream (recorded once per seed),
initial weights, iterations and LR schedule (the quality benchmark's
machinery, ``benchmarks/quality.py``), on a real unpaired dataset, then
scored on its test split:

* success per direction (a small domain classifier, trained on the train
  split only, says the translation is in the target domain);
* content: SSIM of luminance, input vs translation; cycle L1;
* realism: KID in the classifier's feature space against the real target
  test images (checked at start-up to rank blurred, noised and
  colour-shifted real images as worse than real ones);
* FID/KID via ``TranslationMetric`` when the Inception weights exist.

    python benchmarks/realdata.py --dataset horse2zebra --seeds 0 1 2
    python benchmarks/realdata.py --dataset photo2anime --seeds 0 --iters 500

Writes ``realdata.md``, ``realdata.json`` and ``grid_seed<N>.png`` (rows:
input | ours | MMagic for each direction) to ``--out-dir``; progress goes
to stderr, the Markdown to stdout.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import time
from typing import Callable, Optional

# Allow running as a script from a checkout.
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from benchmarks import quality  # noqa: E402
from benchmarks import realdata_baseline as rb  # noqa: E402
from benchmarks import realdata_classifier as rc  # noqa: E402
from benchmarks import realdata_data as rd  # noqa: E402
from benchmarks import realdata_metrics as rm  # noqa: E402
from benchmarks import realdata_models as models  # noqa: E402
from benchmarks import realdata_report as report  # noqa: E402
from benchmarks.forked import run_forked  # noqa: E402
from benchmarks.realdata_notes import describe  # noqa: E402

BETAS = quality.BETAS
# Our recipe per dataset (configs/); --config overrides.
RECIPES = {
    'horse2zebra': 'cyclegan_resnet9-lsgan_1xb1-200e_horse2zebra.py',
    'photo2anime': 'cyclegan_anime.py',
    'summer2winter_yosemite':
    'cyclegan_resnet9-lsgan_1xb1-200e_summer2winter_yosemite.py',
}
log = quality.log


def add_classifier_options(p: argparse.ArgumentParser) -> None:
    """The domain classifier's options (shared with realdata_score.py)."""
    p.add_argument('--min-accuracy', type=float, default=0.85,
                   help='refuse to score below this classifier accuracy')
    p.add_argument('--classifier-epochs', type=int, default=30)
    p.add_argument('--classifier-seed', type=int, default=0)
    p.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                  'realdata'),
                   help='the classifier cache lives in WORK_DIR/<dataset>')


def parse_args(argv: Optional[list] = None) -> argparse.Namespace:
    """Command-line options (defaults: the reference run)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dataset', required=True, choices=rd.DATASETS)
    p.add_argument('--data-root',
                   default=osp.join(osp.dirname(REPO), 'shared', 'data'),
                   help='folder holding <dataset>/trainA, ... '
                   '(default: ../shared/data next to the repository)')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--config', default=None,
                   help='our model settings (default: the dataset\'s '
                   'recipe in configs/)')
    p.add_argument('--net-size', choices=('demo', 'config'),
                   default='demo', help='demo: ResNet/PatchGAN base 16, '
                   '4 blocks, 2 strided convs; config: as configured')
    p.add_argument('--iters', type=int, default=4000)
    p.add_argument('--size', type=int, default=64, help='crop size')
    p.add_argument('--lr', type=float, default=2e-4)
    p.add_argument('--decay-start', type=float, default=0.5,
                   help='fraction of --iters after which the LR decays '
                   'linearly to 0 (both models)')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--threads', type=int, default=2,
                   help='torch threads (2 on an idle 2-core machine; on a '
                   'busy one 1 is much faster: the threads wait for each '
                   'other)')
    p.add_argument('--parallel', action=argparse.BooleanOptionalAction,
                   help='train ours and MMagic at once, in two forked '
                   'one-thread processes (default: on with --threads 2; '
                   '1.46x faster training than one after the other)')
    p.add_argument('--baseline-from', default=None, metavar='JSON',
                   help='reuse MMagic\'s runs of an earlier realdata.json '
                   '(same options, data streams and initial weights: '
                   'checked) and train only ours, two seeds at once with '
                   '--parallel: half the cost of measuring a lever')
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed steps on copies of each model first')
    p.add_argument('--log-interval', type=int, default=500)
    add_classifier_options(p)
    p.add_argument('--out-dir', default=None,
                   help='table, JSON and grids (default WORK_DIR/<dataset>)')
    p.add_argument('--inception', default=None,
                   help='Inception weights file for FID/KID')
    p.add_argument('--grid-rows', type=int, default=8)
    return checked(p, p.parse_args(argv))


def checked(p: argparse.ArgumentParser,
            args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with defaults filled in; ``p.error`` on a bad value."""
    for name in ('iters', 'size', 'batch_size', 'threads', 'log_interval',
                 'classifier_epochs'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got '
                    f'{getattr(args, name)}')
    if args.size % 4 or args.size < 12:
        p.error(f'--size must be a multiple of 4 and >= 12, got '
                f'{args.size}')
    if not 0.0 <= args.min_accuracy <= 1.0:
        p.error(f'--min-accuracy must be in [0, 1], got {args.min_accuracy}')
    if not 0.0 <= args.decay_start <= 1.0:
        p.error(f'--decay-start must be in [0, 1], got {args.decay_start}')
    if min(args.seeds) < 0 or args.warmup < 0:
        p.error('--seeds and --warmup must be >= 0')
    if args.parallel is None:
        args.parallel = args.threads == 2
    args.config = args.config or osp.join(REPO, 'configs',
                                          RECIPES[args.dataset])
    args.out_dir = args.out_dir or osp.join(args.work_dir, args.dataset)
    return args


def prepare(args: argparse.Namespace) -> dict:
    """Test images, the domain classifier and its checks."""
    root = osp.join(args.data_root, args.dataset)
    rd.check_layout(root)
    test = rd.load_split(root, 'test', args.size)
    train = rd.load_split(root, 'train', args.size)
    cache = osp.join(args.work_dir, args.dataset,
                     f'classifier_{args.size}px.pth')
    tic = time.perf_counter()
    classifier = rc.get_classifier(
        root, rd.load_split(root, 'train', args.size,
                            rd.load_size_for(args.size)),
        args.size, cache, args.classifier_seed, args.classifier_epochs,
        log)
    accuracy = rc.accuracy(classifier, test['a'], test['b'])
    log(f'domain classifier: test accuracy {accuracy:.3f} '
        f'({len(test["a"])} + {len(test["b"])} images; ready in '
        f'{time.perf_counter() - tic:.0f} s)')
    checks = {}
    for domain, offset in (('a', 0), ('b', 1)):
        _, held = rc.split_holdout(len(train[domain]),
                                   args.classifier_seed + offset)
        checks[domain] = rm.realism_check(classifier, train[domain][held],
                                          test[domain])
        log(f'realism check, domain {domain}: KID ' + ', '.join(
            f'{k} {v:.3f}' for k, v in checks[domain]['kid'].items()) +
            '; pattern dB ' + ', '.join(
            f'{k} {v:.2f}' for k, v in checks[domain]['pattern'].items()))
    identity = {
        d: rm.score_direction(classifier, test[s], test[s], test[s],
                              test[t], t)
        for d, s, t in (('a2b', 'a', 'b'), ('b2a', 'b', 'a'))
    }
    return dict(root=root, test=test, classifier=classifier,
                accuracy=accuracy, checks=checks, identity=identity)


def _trainer(args: argparse.Namespace, name: str, model, stream: list,
             seed: int):
    """A job training ``model`` (``'ours'`` or ``'mmagic'``) on
    ``stream``; returns its timing and final state dict."""
    make_optim, make_batch = {
        'ours': (lambda m: quality.build_our_optim(m, args.lr),
                 quality.ours_batch),
        'mmagic': (lambda m: mmb.make_optim_wrapper(m, args.lr, BETAS),
                   quality.mmagic_batch)}[name]

    def job():
        if args.warmup:
            quality.warm_up(model, make_optim, make_batch,
                            stream[:args.warmup])
        quality.seed_everything(seed)
        timing = quality.train(f'{name} seed {seed}', model,
                               make_optim(model), make_batch, stream, args)
        return timing, model.state_dict()
    return job


def train_all(args: argparse.Namespace, work: dict) -> dict:
    """Train every ``{(name, seed): (model, stream)}`` of ``work``: one
    after the other, or all at once in forked one-thread processes with
    ``--parallel`` (a single job in this process); ``{(name, seed):
    timing}``."""
    jobs = {key: _trainer(args, key[0], model, stream, key[1])
            for key, (model, stream) in work.items()}
    if not args.parallel or len(jobs) == 1:
        # A job alone (the last of an odd number of seeds) keeps both
        # threads instead of one in a forked process.
        return {key: job()[0] for key, job in jobs.items()}
    done = run_forked({f'{k[0]} seed {k[1]}': job
                       for k, job in jobs.items()})
    timings = {}
    for key, (model, _) in work.items():
        timing, state = done[f'{key[0]} seed {key[1]}']
        model.load_state_dict(state)
        timings[key] = timing
    return timings


def set_up_seed(args: argparse.Namespace, ready: dict, recipe: tuple,
                seed: int, baseline: Optional[dict]) -> dict:
    """One seed's recorded data stream and both models, started alike;
    with a baseline, checks that MMagic's run would be the baseline's."""
    log(f'seed {seed}: recording {args.iters} training batches ...')
    tic = time.perf_counter()
    # Decoding JPEGs dominates: one worker per thread when there are two.
    stream = rd.record_train_stream(
        ready['root'], args.size, args.iters, seed, args.batch_size,
        workers=args.threads if args.threads > 1 else 0)
    data_seconds = time.perf_counter() - tic
    probe = tuple(quality.as_float(ready['test'][d][:2]) for d in 'ab')
    pair = models.build_pair(*recipe, seed, probe)
    sha = quality.fingerprint(stream)
    if baseline is not None:
        theirs = models.build_pair(*baseline['recipe'], seed,
                                   probe)['theirs']
        rb.check_seed(baseline, seed, sha, pair['theirs'], theirs)
    return dict(seed=seed, stream=stream, pair=pair, facts=dict(
        seed=seed, stream_sha256=sha, data_seconds=data_seconds,
        shared=pair['shared'], init_diff=pair['init_diff'],
        data_diff=pair['data_diff']))


def score_seed(args: argparse.Namespace, ready: dict, setup: dict,
               timings: dict, baseline: Optional[dict]) -> tuple:
    """Scores of one seed's trained models (MMagic's from the baseline if
    given) and its grid; ``(runs, facts)``."""
    seed, pair, test = setup['seed'], setup['pair'], ready['test']
    translators = dict(
        ours=(pair['ours'], models.our_translator(pair['ours'])),
        mmagic=(pair['theirs'], models.mmagic_translator(pair['theirs'])))
    if baseline is not None:
        del translators['mmagic']
    runs, outputs = {}, {}
    for name, (model, translate) in translators.items():
        outputs[name] = models.translate_all(model, translate, test)
        run = {}
        for d, s, t in (('a2b', 'a', 'b'), ('b2a', 'b', 'a')):
            fake, rec = outputs[name][d]
            run[d] = rm.score_direction(ready['classifier'], test[s], fake,
                                        rec, test[t], t)
        run['seconds'] = timings[(name, seed)]['seconds']
        run['cpu_seconds'] = timings[(name, seed)]['cpu_seconds']
        run.update(rm.inception_scores(args.inception, test,
                                       outputs[name]))
        runs[(name, seed)] = run
    path = osp.join(args.out_dir, f'grid_seed{seed}.png')
    translated = {name: {d: outputs[name][d][0] for d in report.DIRECTIONS}
                  for name in outputs}
    if baseline is None:
        grid = report.save_grid(path, test, translated['ours'],
                                translated['mmagic'], args.grid_rows)
    else:
        runs[('mmagic', seed)] = baseline['runs'][seed]
        grid = report.save_pairs_grid(path, test, translated['ours'],
                                      args.grid_rows)
    return runs, dict(setup['facts'], grid=grid,
                      load=timings[('ours', seed)]['load'])


def run_seeds(args: argparse.Namespace, ready: dict, recipe: tuple,
              baseline: Optional[dict], done: Callable) -> tuple[dict, list]:
    """Train and score every seed; ``(runs, facts)``, also passed to
    ``done`` after each group of seeds. Without a baseline ours and
    MMagic train together per seed; with one only ours trains, two seeds
    at once with ``--parallel``."""
    names = ('ours',) if baseline else ('ours', 'mmagic')
    group = 2 if baseline and args.parallel else 1
    runs: dict = {}
    facts = []
    for first in range(0, len(args.seeds), group):
        setups = [set_up_seed(args, ready, recipe, seed, baseline)
                  for seed in args.seeds[first:first + group]]
        timings = train_all(args, {
            (name, s['seed']): (s['pair']['ours' if name == 'ours' else
                                          'theirs'], s['stream'])
            for s in setups for name in names})
        for setup in setups:
            seed_runs, seed_facts = score_seed(args, ready, setup, timings,
                                               baseline)
            runs.update(seed_runs)
            facts.append(seed_facts)
        done(runs, facts)
    return runs, facts


def main(argv: Optional[list] = None) -> int:
    """Entry point: prints the Markdown report; 3 if the classifier is
    too weak to score with."""
    args = parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    recipe = models.recipe(args.config, args.net_size == 'demo')
    ready = prepare(args)
    if ready['accuracy'] < args.min_accuracy:
        log(f'refusing to score: the domain classifier is '
            f'{ready["accuracy"]:.3f} accurate on the test split, below '
            f'--min-accuracy {args.min_accuracy}')
        return 3
    try:
        baseline = None
        if args.baseline_from:
            baseline = rb.load(args.baseline_from, args)
            baseline['recipe'] = rb.check_recipe(baseline, recipe,
                                                 args.net_size == 'demo')
        runs, facts = run_seeds(
            args, ready, recipe, baseline,
            lambda r, f: write_report(args, recipe, ready, r, f, start))
    except rb.BaselineMismatch as error:
        log(str(error))
        return 2
    print(write_report(args, recipe, ready, runs, facts, start),
          flush=True)
    log(f'wrote realdata.md and realdata.json to {args.out_dir} in '
        f'{time.perf_counter() - start:.0f} s')
    return 0


def write_report(args: argparse.Namespace, recipe: tuple, ready: dict,
                 runs: dict, facts: list, start: float) -> str:
    """Write realdata.md and realdata.json for the seeds done so far (a
    long run interrupted keeps its finished seeds); the Markdown."""
    wall = time.perf_counter() - start
    text = describe(args, *recipe, ready, runs, facts, wall)
    md_path = osp.join(args.out_dir, 'realdata.md')
    with open(md_path, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    with open(osp.join(args.out_dir, 'realdata.json'), 'w',
              encoding='utf-8') as f:
        f.write(report.to_json(vars(args), runs, ready['identity'], dict(
            classifier_accuracy=ready['accuracy'],
            realism_check=ready['checks'], seeds=facts,
            wall_seconds=wall)))
    return text


if __name__ == '__main__':
    sys.exit(main())
