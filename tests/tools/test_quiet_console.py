"""A default training run's console: short before the first iteration, no
warning anywhere; the environment, config and hook order stay in the log
file (and on the console with --verbose)."""
import glob
import logging
import os.path as osp
import re

from mm_cyclegan.engine.console import (
    FILE_ONLY_PREFIXES,
    quiet_console,
    set_verbose,
)
from tests.helpers import REPO, run_tool

DEMO = osp.join(REPO, 'configs', 'cyclegan_demo.py')
# The demo recipe as written (hooks, loop, schedule, evaluation), on fewer
# and smaller images so that it runs in seconds.
SMALL = [f'{loader}.dataset.{key}'
         for loader in ('train_dataloader', 'val_dataloader',
                        'test_dataloader')
         for key in ('num_samples=4', 'size=32')]
MAX_LINES = 25


def test_demo_console_is_short_and_has_no_warning(tmp_path):
    work = tmp_path / 'work'
    result = run_tool(['tools/train.py', DEMO, '--work-dir', str(work),
                       '--max-iters', '2', '--cfg-options'] + SMALL)
    lines = (result.stdout + result.stderr).splitlines()
    first = next(i for i, line in enumerate(result.stdout.splitlines())
                 if 'Iter(train) [1/2]' in line)
    # stdout alone: stderr holds only progress bars after training.
    assert first + 1 <= MAX_LINES, '\n'.join(
        result.stdout.splitlines()[:first + 1])
    noisy = [line for line in lines if re.search('warn', line, re.I)]
    assert not noisy, noisy
    assert 'System environment' not in result.stdout
    # ... but the log file has the environment, config and hook order.
    log = glob.glob(str(work / '*' / '*.log'))
    assert len(log) == 1
    with open(log[0], encoding='utf-8') as f:
        text = f.read()
    for wanted in ('System environment:', 'Config:\n',
                   'Hooks will be executed in the following order'):
        assert wanted in text, wanted
    # The paired test table still reaches the console.
    assert 'paired metrics' in result.stdout


def _logger(tmp_path, name):
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = tmp_path / f'{name}.console'
    logfile = tmp_path / f'{name}.log'
    stream = open(console, 'w', encoding='utf-8')
    logger.addHandler(logging.StreamHandler(stream))
    logger.addHandler(logging.FileHandler(logfile))
    return logger, stream, console, logfile


def test_file_only_records_reach_the_file_and_verbose_keeps_them(tmp_path):
    records = [prefix + ' ...' for prefix in FILE_ONLY_PREFIXES] + [
        'Iter(train) [1/2]']
    for verbose in (False, True):
        name = f'console_{verbose}'
        logger, stream, console, logfile = _logger(tmp_path, name)
        set_verbose(verbose)
        try:
            quiet_console(logger)
            quiet_console(logger)  # idempotent
            for record in records:
                logger.info(record)
        finally:
            set_verbose(False)
            stream.close()
            for handler in list(logger.handlers):
                handler.close()
                logger.removeHandler(handler)
        shown = console.read_text(encoding='utf-8')
        assert 'Iter(train) [1/2]' in shown
        assert ('System environment' in shown) == verbose
        assert ('Config:' in shown) == verbose
        assert logfile.read_text(encoding='utf-8').count(' ...') == len(
            FILE_ONLY_PREFIXES)
