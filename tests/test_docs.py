"""The docs cannot rot: their code blocks run and their links resolve.

README.md and every page under docs/ are checked (docs/development.md
describes the rules):

* every ```python block compiles and every ```bash block passes
  ``bash -n``;
* a block whose opening fence follows a ``<!-- runnable -->`` line is
  executed, in page order, in a fresh folder per page that looks like the
  repository after ``make demo``, only tiny (tools/ and configs/ linked,
  a small random-weight checkpoint in work_dirs/cyclegan_demo/, a
  photo.jpg);
* every relative link names an existing file, and its ``#anchor`` a
  heading of that file (GitHub's slug rule).
"""
from __future__ import annotations

import glob
import os
import os.path as osp
import pathlib
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from tests.apis.fixtures import write_checkpoint
from tests.helpers import REPO

MARKER = '<!-- runnable -->'
CHECKED_LANGUAGES = ('python', 'bash')
FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)')
LINK = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
# One snippet may take this long; the whole file runs in well under it.
SNIPPET_TIMEOUT = 180


@dataclass
class Block:
    """A fenced code block of a Markdown page."""

    page: str  # path relative to the repository
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    runnable: bool

    @property
    def where(self) -> str:
        return f'{self.page}:{self.line}'


def doc_pages() -> list:
    """README.md and docs/**/*.md, relative to the repository."""
    pages = ['README.md'] + sorted(
        osp.relpath(path, REPO) for path in glob.glob(
            osp.join(REPO, 'docs', '**', '*.md'), recursive=True))
    return [page for page in pages if osp.isfile(osp.join(REPO, page))]


def _read_lines(page: str) -> list:
    with open(osp.join(REPO, page), encoding='utf-8') as f:
        return f.read().splitlines()


def parse_page(page: str) -> tuple:
    """``(blocks, prose_lines)`` of a page; prose excludes code blocks.

    A ``<!-- runnable -->`` line that is not right before an opening fence
    is an error, as is an unclosed fence.
    """
    lines = _read_lines(page)
    blocks, prose = [], []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            if lines[index].strip() == MARKER and not (
                    index + 1 < len(lines)
                    and FENCE.match(lines[index + 1])):
                raise AssertionError(
                    f'{page}:{index + 1}: {MARKER} must be the line right '
                    'before a code block\'s opening fence')
            prose.append(lines[index])
            index += 1
            continue
        fence, language = match.group(1), match.group(2).lower()
        start = index
        index += 1
        body = []
        while index < len(lines) and not re.match(
                rf'^ {{0,3}}{fence[0]}{{{len(fence)},}}\s*$', lines[index]):
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise AssertionError(f'{page}:{start + 1}: unclosed code block')
        index += 1  # the closing fence
        runnable = start > 0 and lines[start - 1].strip() == MARKER
        blocks.append(Block(page, start + 1, language,
                            '\n'.join(body) + '\n', runnable))
    return blocks, prose


def all_blocks() -> list:
    return [block for page in doc_pages() for block in parse_page(page)[0]]


def _block_id(block: Block) -> str:
    return f'{block.where}-{block.language}'


# --- every block: marked only where it can run, and syntactically valid


def test_runnable_marker_only_on_python_and_bash_blocks():
    wrong = [block.where for block in all_blocks()
             if block.runnable and block.language not in CHECKED_LANGUAGES]
    assert not wrong, (f'{MARKER} marks blocks that are neither python nor '
                       f'bash: {wrong}')


def test_pages_have_runnable_blocks():
    """The pages whose snippets this file promises to run still have some."""
    runnable = {block.page for block in all_blocks() if block.runnable}
    expected = {'README.md', 'docs/user_guides/inference.md',
                'docs/user_guides/deployment.md',
                'docs/user_guides/reuse_in_mmagic.md'}
    assert expected <= runnable, f'no runnable block in {expected - runnable}'


@pytest.mark.parametrize(
    'block', [b for b in all_blocks() if b.language == 'python'],
    ids=_block_id)
def test_python_blocks_compile(block):
    try:
        compile(block.code, block.where, 'exec')
    except SyntaxError as err:
        pytest.fail(f'{block.where}: {err}')


def test_bash_blocks_parse():
    failures = []
    for block in all_blocks():
        if block.language != 'bash':
            continue
        result = subprocess.run(['bash', '-n'], input=block.code, text=True,
                                capture_output=True)
        if result.returncode != 0:
            failures.append(f'{block.where}: {result.stderr.strip()}')
    assert not failures, '\n'.join(failures)


# --- runnable blocks: executed on a tiny model


def make_sandbox(root: pathlib.Path) -> None:
    """Make ``root`` a folder like the repository after ``make demo``."""
    root.mkdir()
    for name in ('tools', 'configs'):
        os.symlink(osp.join(REPO, name), root / name)
    work_dir = root / 'work_dirs' / 'cyclegan_demo'
    work_dir.mkdir(parents=True)
    write_checkpoint(work_dir / 'iter_2000.pth', iteration=2000)
    (work_dir / 'last_checkpoint').write_text('iter_2000.pth')
    # Any RGB photo will do; a smooth gradient compresses like one.
    yy, xx = np.mgrid[0:48, 0:64]
    pixels = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1)
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
        root / 'photo.jpg')


def _environment() -> dict:
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = REPO + (os.pathsep + env['PYTHONPATH']
                                if env.get('PYTHONPATH') else '')
    env['MPLBACKEND'] = 'Agg'
    return env


def run_block(block: Block, folder) -> str:
    """Run one block in ``folder``; ``''`` or what went wrong."""
    name = re.sub(r'\W', '_', block.where)
    if block.language == 'python':
        script = osp.join(folder, f'{name}.py')
        command = [sys.executable, script]
    else:
        script = osp.join(folder, f'{name}.sh')
        command = ['bash', '-euo', 'pipefail', script]
    with open(script, 'w', encoding='utf-8') as f:
        f.write(block.code)
    try:
        result = subprocess.run(command, cwd=folder, env=_environment(),
                                capture_output=True, text=True,
                                timeout=SNIPPET_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f'{block.where} ({block.language}) took > {SNIPPET_TIMEOUT} s'
    if result.returncode == 0:
        return ''
    return (f'{block.where} ({block.language}) exited {result.returncode}\n'
            f'--- code ---\n{block.code}'
            f'--- stdout ---\n{result.stdout[-3000:]}\n'
            f'--- stderr ---\n{result.stderr[-5000:]}')


def run_page(page: str) -> str:
    """Run a page's runnable blocks in order in a fresh sandbox.

    Stops at the first failure (later blocks may build on it) and returns
    its report, or ``''``.
    """
    with tempfile.TemporaryDirectory(prefix='docs-') as tmp:
        root = pathlib.Path(tmp) / 'repo'
        make_sandbox(root)
        for block in parse_page(page)[0]:
            if block.runnable:
                failure = run_block(block, str(root))
                if failure:
                    return failure
    return ''


def _cost(page: str) -> int:
    """Processes a page starts: each costs seconds of imports."""
    blocks = [b for b in parse_page(page)[0] if b.runnable]
    return sum(1 if b.language == 'python' else
               len(re.findall(r'^\s*python ', b.code, re.M)) for b in blocks)


def test_runnable_blocks_run():
    """Every runnable block works as printed (two pages at a time).

    Each snippet is a new process spending most of its time importing
    torch and MMagic on one core, so two pages run side by side, the
    longest first.
    """
    pages = sorted({b.page for b in all_blocks() if b.runnable}, key=_cost,
                   reverse=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(run_page, pages) if f]
    assert not failures, '\n\n'.join(failures)


def test_run_block_reports_a_failing_snippet(tmp_path):
    """The runner notices a snippet that no longer works, and says where."""
    broken = Block('docs/x.md', 3, 'bash', 'python tools/no_such_tool.py\n',
                   True)
    report = run_block(broken, str(tmp_path))
    assert report.startswith('docs/x.md:3 (bash) exited 2'), report
    assert 'no_such_tool.py' in report
    working = Block('docs/x.md', 5, 'python', 'print(1 + 1)\n', True)
    assert run_block(working, str(tmp_path)) == ''


# --- links


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (before de-duplication)."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # links
    text = text.replace('`', '').replace('*', '')
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


def anchors(path: str) -> set:
    """Every heading anchor of a Markdown file (with ``-1``, ``-2`` ...)."""
    page = osp.relpath(path, REPO)
    _, prose = parse_page(page)
    seen: dict = {}
    result = set()
    for line in prose:
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f'{slug}-{count}')
    return result


def test_github_slug_rule():
    assert github_slug('Photo → anime') == 'photo--anime'
    assert github_slug('Mixed precision training (`--amp`)') == \
        'mixed-precision-training---amp'
    assert github_slug('`speed.py`: training and inference speed vs MMagic') \
        == 'speedpy-training-and-inference-speed-vs-mmagic'


def relative_links(page: str) -> list:
    """The target of every relative link in a page's prose."""
    _, prose = parse_page(page)
    # Whole text, not lines: link texts and code spans may wrap.
    text = re.sub(r'`[^`]*`', '', '\n'.join(prose))
    return [target for target in LINK.findall(text)
            if not re.match(r'^[a-z][a-z0-9+.-]*:', target, re.I)]


def test_relative_links_resolve():
    broken = []
    count = 0
    for page in doc_pages():
        for target in relative_links(page):
            count += 1
            path, _, anchor = target.partition('#')
            resolved = (osp.join(REPO, page) if not path else osp.normpath(
                osp.join(REPO, osp.dirname(page), path)))
            if not osp.exists(resolved):
                broken.append(f'{page}: {target} (no such file)')
            elif anchor and resolved.endswith('.md') and \
                    anchor not in anchors(resolved):
                broken.append(f'{page}: {target} (no heading #{anchor} in '
                              f'{osp.relpath(resolved, REPO)})')
    assert count > 20, f'only {count} relative links found: parser broken?'
    assert not broken, '\n'.join(broken)
