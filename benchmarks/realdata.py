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
from typing import Optional

# Allow running as a script from a checkout.
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402

import mm_cyclegan  # noqa: E402,F401  (compat workarounds first)
from benchmarks import mmagic_baseline as mmb  # noqa: E402
from benchmarks import quality  # noqa: E402
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
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed steps on copies of each model first')
    p.add_argument('--log-interval', type=int, default=500)
    add_classifier_options(p)
    p.add_argument('--out-dir', default=None,
                   help='table, JSON and grids (default WORK_DIR/<dataset>)')
    p.add_argument('--inception', default=None,
                   help='Inception weights file for FID/KID')
    p.add_argument('--grid-rows', type=int, default=8)
    args = p.parse_args(argv)
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


def train_both(args: argparse.Namespace, pair: dict, stream: list,
               seed: int) -> dict:
    """Train ours and MMagic's on ``stream`` (one after the other, or
    side by side with ``--parallel``); their timings."""
    contenders = {
        'ours': (pair['ours'], lambda m: quality.build_our_optim(
            m, args.lr), quality.ours_batch),
        'mmagic': (pair['theirs'], lambda m: mmb.make_optim_wrapper(
            m, args.lr, BETAS), quality.mmagic_batch),
    }

    def train_one(name: str) -> dict:
        model, make_optim, make_batch = contenders[name]
        if args.warmup:
            quality.warm_up(model, make_optim, make_batch,
                            stream[:args.warmup])
        quality.seed_everything(seed)
        return quality.train(f'{name} seed {seed}', model,
                             make_optim(model), make_batch, stream, args)

    if not args.parallel:
        return {name: train_one(name) for name in contenders}

    def job(name: str):
        return lambda: (train_one(name), contenders[name][0].state_dict())

    timings = {}
    for name, (timing, state) in run_forked(
            {name: job(name) for name in contenders}).items():
        contenders[name][0].load_state_dict(state)
        timings[name] = timing
    return timings


def run_seed(args: argparse.Namespace, ready: dict, model_cfg: dict,
             pool: tuple, seed: int) -> tuple[dict, dict]:
    """Train and score both models for one seed; ``(runs, facts)``."""
    log(f'seed {seed}: recording {args.iters} training batches ...')
    tic = time.perf_counter()
    # Decoding JPEGs dominates: one worker per thread when there are two.
    stream = rd.record_train_stream(
        ready['root'], args.size, args.iters, seed, args.batch_size,
        workers=args.threads if args.threads > 1 else 0)
    data_seconds = time.perf_counter() - tic
    test = ready['test']
    probe = tuple(quality.as_float(test[d][:2]) for d in 'ab')
    pair = models.build_pair(model_cfg, pool, seed, probe)
    timings = train_both(args, pair, stream, seed)
    translators = dict(
        ours=(pair['ours'], models.our_translator(pair['ours'])),
        mmagic=(pair['theirs'], models.mmagic_translator(pair['theirs'])))
    runs, outputs = {}, {}
    for name, (model, translate) in translators.items():
        outputs[name] = models.translate_all(model, translate, test)
        run = {}
        for d, s, t in (('a2b', 'a', 'b'), ('b2a', 'b', 'a')):
            fake, rec = outputs[name][d]
            run[d] = rm.score_direction(ready['classifier'], test[s], fake,
                                        rec, test[t], t)
        run['seconds'] = timings[name]['seconds']
        run['cpu_seconds'] = timings[name]['cpu_seconds']
        run.update(rm.inception_scores(args.inception, test,
                                       outputs[name]))
        runs[(name, seed)] = run
    grid = report.save_grid(
        osp.join(args.out_dir, f'grid_seed{seed}.png'), test,
        {d: outputs['ours'][d][0] for d in report.DIRECTIONS},
        {d: outputs['mmagic'][d][0] for d in report.DIRECTIONS},
        args.grid_rows)
    facts = dict(seed=seed, stream_sha256=quality.fingerprint(stream),
                 data_seconds=data_seconds, shared=pair['shared'],
                 init_diff=pair['init_diff'], data_diff=pair['data_diff'],
                 grid=grid, load=timings['ours']['load'])
    return runs, facts


def main(argv: Optional[list] = None) -> int:
    """Entry point: prints the Markdown report; 3 if the classifier is
    too weak to score with."""
    args = parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    model_cfg, pool = models.recipe(args.config, args.net_size == 'demo')
    ready = prepare(args)
    if ready['accuracy'] < args.min_accuracy:
        log(f'refusing to score: the domain classifier is '
            f'{ready["accuracy"]:.3f} accurate on the test split, below '
            f'--min-accuracy {args.min_accuracy}')
        return 3
    runs: dict = {}
    facts = []
    for seed in args.seeds:
        seed_runs, seed_facts = run_seed(args, ready, model_cfg, pool, seed)
        runs.update(seed_runs)
        facts.append(seed_facts)
    wall = time.perf_counter() - start
    text = describe(args, model_cfg, pool, ready, runs, facts, wall)
    print(text, flush=True)
    md_path = osp.join(args.out_dir, 'realdata.md')
    with open(md_path, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    with open(osp.join(args.out_dir, 'realdata.json'), 'w',
              encoding='utf-8') as f:
        f.write(report.to_json(vars(args), runs, ready['identity'], dict(
            classifier_accuracy=ready['accuracy'],
            realism_check=ready['checks'], seeds=facts,
            wall_seconds=wall)))
    log(f'wrote {md_path} and realdata.json in {wall:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
