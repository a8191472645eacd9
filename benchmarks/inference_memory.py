"""Peak memory and time of full-resolution translation (tools/translate.py).

    python benchmarks/inference_memory.py                       # 1024, 2048
    python benchmarks/inference_memory.py --sizes 1024 2048 2896 \\
        --precisions fp32 bf16

Each (size, precision) runs in a fresh subprocess that loads a ResNet-9
generator with base 64 channels (the paper's, random weights: speed and
memory do not depend on the values) through ``Translator.from_file`` and
translates one random size x size RGB uint8 image, exactly as
``tools/translate.py`` does (``--batch-size 1``). Peak memory is the
child's ``ru_maxrss`` (resident set, includes torch and the model); time is
the median of ``--repeats`` translations after a warm-up at 256 px
(``--repeats 0``: one translation, no warm-up; for memory), as wall clock
and as CPU time of the process.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

CHILD = r'''
import json, sys, time
import numpy as np
import torch
from mm_cyclegan.apis import Translator
weights, size, precision, repeats = sys.argv[1:5]
size, repeats = int(size), int(repeats)
translator = Translator.from_file(weights, precision=precision)
image = np.random.default_rng(0).integers(0, 256, (size, size, 3), np.uint8)
if repeats:  # warm-up (oneDNN primitive creation); 0: one timed run only
    translator(image[:256, :256])
walls, cpus = [], []
for _ in range(max(repeats, 1)):
    wall, cpu = time.perf_counter(), time.process_time()
    out = translator(image)
    walls.append(time.perf_counter() - wall)
    cpus.append(time.process_time() - cpu)
assert out.shape == image.shape
print(json.dumps(dict(wall=sorted(walls)[len(walls) // 2],
                      cpu=sorted(cpus)[len(cpus) // 2],
                      threads=torch.get_num_threads(),
                      precision=translator.precision)))
'''


def write_weights(folder: str) -> str:
    """A checkpoint in our layout with a random ResNet-9 (base 64)."""
    import torch
    from mmengine.config import Config

    from mm_cyclegan.models.generators.resnet import ResnetGenerator
    cfg = dict(type='ResnetGenerator', in_channels=3, out_channels=3,
               base_channels=64, num_blocks=9)
    generator = ResnetGenerator(**{k: v for k, v in cfg.items()
                                   if k != 'type'})
    state = {f'generator_a2b.{k}': v
             for k, v in generator.state_dict().items()}
    model = dict(type='CycleGAN', generator_a2b=cfg,
                 discriminator_b=dict(type='PatchDiscriminator',
                                      in_channels=3))
    path = osp.join(folder, 'resnet9.pth')
    torch.save(dict(meta=dict(cfg=Config(dict(model=model)).pretty_text),
                    state_dict=state), path)
    return path


def measure(weights: str, size: int, precision: str, repeats: int) -> dict:
    """Run one child; return its timings and peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run(
        [sys.executable, '-c', CHILD, weights, str(size), precision,
         str(repeats)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [
            f'exit code {result.returncode}']
        return dict(size=size, precision=precision, error=lines[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: runs go
    # from small to large, so a new maximum belongs to this run.
    row = json.loads(result.stdout.strip().splitlines()[-1])
    row.update(size=size, peak_mib=max(peak, before) / 1024)
    return row


def main(argv=None) -> int:
    """Measure and print a table (and JSON lines with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024, 2048])
    parser.add_argument('--precisions', nargs='+', default=['fp32'],
                        choices=['fp32', 'bf16'])
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed runs (0: one run, no warm-up)')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    print(f'machine: {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs; load average {os.getloadavg()}')
    with tempfile.TemporaryDirectory() as folder:
        weights = write_weights(folder)
        rows = []
        for size in sorted(args.sizes):
            for precision in args.precisions:
                row = measure(weights, size, precision, args.repeats)
                rows.append(row)
                if args.json:
                    print(json.dumps(row))
                elif 'error' in row:
                    print(f'{size:>6} px {precision}: failed: {row["error"]}')
                else:
                    mp = size * size / 1e6
                    print(f'{size:>6} px ({mp:5.1f} MP) {row["precision"]}: '
                          f'{row["wall"]:7.2f} s wall, {row["cpu"]:7.2f} s '
                          f'CPU ({row["threads"]} threads), peak RSS '
                          f'{row["peak_mib"]:8.0f} MiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
