"""No module reads another module's ``_private`` names (AST scan).

A private name is a contract nobody promised: a rename upstream or in the
other module silently changes behaviour (or, through ``getattr`` with a
default, silently turns a check off). Flagged, in ``mm_cyclegan/`` and
``tools/``:

* an attribute read ``x._name`` (``x`` not ``self``/``cls``/``super()``);
* ``getattr``/``hasattr``/``setattr``/``delattr`` of ``x`` with a name
  (a string, or an f-string) starting with ``_``;
* ``from module import _name``.

Dunders (``__name__``) are public. Upstream internals that have no public
accessor are allowed only through :data:`ALLOWED`, one entry per (file,
name) with its reason; most of them live in ``mm_cyclegan/compat.py``.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ('mm_cyclegan', 'tools')
_SELF = ('self', 'cls')
_GETATTR = ('getattr', 'hasattr', 'setattr', 'delattr')

#: Names public despite the underscore: namedtuple's documented API.
PUBLIC_ANYWHERE = frozenset({'_asdict', '_replace', '_fields', '_make'})

#: (file name, private name) -> why it must be read. Keyed by the file's
#: name, not its folder, so a module moved to another package keeps its
#: entry (and nothing else gains one).
ALLOWED = {
    ('compat.py', '_instance_dict'):
        "MMEngine: MMLogger's instance registry; no public list of loggers",
    ('compat.py', '_resume'):
        'MMEngine: Runner keeps resume=True only as _resume (EMAHook reads '
        'it too)',
    ('compat.py', '_val_loop'):
        "MMEngine: the val loop's config without building it "
        '(runner.val_loop builds)',
    ('compat.py', '_randomness_cfg'):
        'MMEngine: the runner keeps randomness (diff_rank_seed) only there',
    ('compat.py', '_mm_cyclegan_patched'):
        "our own marker on mmcv's patched ext loader (idempotent patch)",
    ('precision.py', '_is_avx512_bf16_supported'):
        'torch: the CPU bf16 probe has no public name',
    ('precision.py', '_is_amx_tile_supported'):
        'torch: the CPU AMX probe has no public name',
    ('export.py', '_modules'):
        "torch: renaming a submodule ('in', a keyword TorchScript cannot "
        'load back) has no public API',
    ('_layers.py', '_NormBase'):
        "torch: the base class of every norm layer has no public alias",
    ('_checkpoint.py', '_NormBase'):
        "torch: the base class of every norm layer has no public alias",
    ('linear_decay.py', '_ParamScheduler'):
        "MMEngine: the base class of its schedulers (in mmengine.optim's "
        '__all__ under this name)',
    ('init_weights.py', '_NormBase'):
        "torch: the base class of every norm layer has no public alias",
    ('init_weights.py', '_ConvNd'):
        "torch: the base class of every conv layer has no public alias",
}


def _private(name: str) -> bool:
    return (name.startswith('_') and not name.endswith('__')
            and name not in PUBLIC_ANYWHERE)


def _is_own(node: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: the object's own attributes."""
    if isinstance(node, ast.Name):
        return node.id in _SELF
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'super')


def _getattr_name(node: ast.Call) -> str | None:
    """The private name a ``getattr``-like call reads, if any."""
    if not (isinstance(node.func, ast.Name) and node.func.id in _GETATTR
            and len(node.args) >= 2) or _is_own(node.args[0]):
        return None
    name = node.args[1]
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value if _private(name.value) else None
    if isinstance(name, ast.JoinedStr) and name.values:
        head = name.values[0]
        if isinstance(head, ast.Constant) and _private(str(head.value)):
            return ast.unparse(name)
    return None


def private_reads(source: str, filename: str = '<source>') -> list:
    """``(line, name, code)`` for every private read in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        name = None
        if isinstance(node, ast.Attribute) and _private(node.attr) \
                and not _is_own(node.value):
            name = node.attr
        elif isinstance(node, ast.Call):
            name = _getattr_name(node)
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if _private(a.name)]
            name = names[0] if names else None
        if name is not None:
            found.append((node.lineno, name, ast.unparse(node)[:80]))
    return sorted(found)


def _violations(root: pathlib.Path = REPO) -> list[str]:
    bad = []
    for folder in SCANNED:
        for path in sorted((root / folder).rglob('*.py')):
            for line, name, code in private_reads(path.read_text('utf-8'),
                                                  str(path)):
                if (path.name, name) not in ALLOWED:
                    bad.append(f'{path.relative_to(root)}:{line}: {code}')
    return bad


def test_no_module_reads_another_modules_private_names():
    bad = _violations()
    assert not bad, ('private names read across modules (give the owner a '
                     'public name, or add an upstream internal to ALLOWED '
                     'with its reason):\n' + '\n'.join(bad))


def test_every_allowed_entry_has_a_reason():
    assert all(isinstance(why, str) and len(why) > 20
               for why in ALLOWED.values())


@pytest.mark.parametrize('source,name', [
    ('dataset._scan_a', '_scan_a'),
    ("getattr(dataset, f'_scan_{domain}')", "f'_scan_{domain}'"),
    ("getattr(runner, '_resume', False)", '_resume'),
    ("hasattr(model, '_hidden')", '_hidden'),
    ('from .app import _is_loopback, create_app', '_is_loopback'),
    ('MMLogger._instance_dict', '_instance_dict'),
    ('a.b._c.d', '_c'),
])
def test_a_planted_private_read_is_found(source, name):
    assert [found[1] for found in private_reads(source)] == [name]


@pytest.mark.parametrize('source', [
    'self._name', 'cls._name', 'super()._save()', "getattr(self, '_x')",
    'obj.__class__', 'limits._replace(size=1)', "getattr(obj, 'name')",
    "getattr(obj, f'channels_{domain}')", 'from .app import create_app',
])
def test_own_public_and_dunder_names_pass(source):
    assert private_reads(source) == []


def test_a_planted_violation_fails_the_scan(tmp_path):
    package = tmp_path / 'mm_cyclegan'
    package.mkdir()
    (package / 'runner.py').write_text(
        'def check(dataset, domain):\n'
        "    return getattr(dataset, f'_scan_{domain}', None)\n")
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'ok.py').write_text('import os\nos._exit\n')
    bad = _violations(tmp_path)
    assert bad == ["mm_cyclegan/runner.py:2: getattr(dataset, "
                   "f'_scan_{domain}', None)", 'tools/ok.py:2: os._exit']
