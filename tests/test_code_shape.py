"""Code shape: files <= 400 lines, functions <= 60 lines (issue 26).

Small files with one component each, and functions short enough to read
at once, are the project's style; this test keeps them from growing back.
Lengths come from the AST (``end_lineno - lineno + 1``, decorators not
counted), so blank lines and docstrings count like code.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED_DIRS = ('mm_cyclegan', 'tools', 'benchmarks')
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

# Known offenders being split (none today). Each entry is a file (its
# line count is over) or 'file::function'; an entry that is no longer over
# makes the test fail, so the set can only shrink.
PENDING: frozenset = frozenset()


def shape_offenders(path: Path, name: str,
                    max_file: int = MAX_FILE_LINES,
                    max_function: int = MAX_FUNCTION_LINES) -> dict:
    """Map each offence in one source file to its ``file:line`` message.

    Keys are ``name`` for a long file and ``name::function`` for a long
    function (methods and nested functions included).
    """
    source = path.read_text(encoding='utf-8')
    found = {}
    n_lines = len(source.splitlines())
    if n_lines > max_file:
        found[name] = f'{name}:1: {n_lines} lines > {max_file}'
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > max_function:
                found[f'{name}::{node.name}'] = (
                    f'{name}:{node.lineno}: function {node.name} is '
                    f'{length} lines > {max_function}')
    return found


def tree_offenders(root: Path = ROOT) -> dict:
    """Offences in every ``.py`` file under the checked directories."""
    found = {}
    for directory in CHECKED_DIRS:
        for path in sorted((root / directory).rglob('*.py')):
            found.update(
                shape_offenders(path, path.relative_to(root).as_posix()))
    return found


def test_files_and_functions_are_short():
    found = tree_offenders()
    new = sorted(msg for key, msg in found.items() if key not in PENDING)
    assert not new, 'too long:\n' + '\n'.join(new)
    fixed = sorted(PENDING - found.keys())
    assert not fixed, ('no longer over, remove from PENDING: '
                       f'{fixed}')


def test_checker_catches_a_long_function(tmp_path):
    def method(n_statements):
        body = '\n'.join(f'        x{i} = {i}' for i in range(n_statements))
        return (f'def short():\n    return 1\n\n\n'
                f'class Holder:\n\n    def long(self):\n{body}\n'
                f'        return 0\n')

    path = tmp_path / 'planted.py'
    # def line + 60 statements + return: 62 lines, over the limit.
    path.write_text(method(60))
    assert shape_offenders(path, 'planted.py') == {
        'planted.py::long': 'planted.py:7: function long is 62 lines > 60'
    }
    # def line + 58 statements + return: exactly 60 lines, allowed.
    path.write_text(method(58))
    assert shape_offenders(path, 'planted.py') == {}


@pytest.mark.parametrize('lines, over', [(400, False), (401, True)])
def test_checker_counts_file_lines(tmp_path, lines, over):
    path = tmp_path / 'big.py'
    path.write_text('x = 1\n' * lines)
    found = shape_offenders(path, 'big.py')
    assert ('big.py' in found) is over
