"""Components meet only through public names: no published package imports an underscore name of another.

A package pins its siblings by version range, so it may rely only on what they document; a private module or
function (`embeddenator.vsa._kernels`, `_pack_rows`) can change in any patch release. The rule is read from the
sources with `ast`, so it holds for every component and every future change. A component's own privates, and
dunder names such as `__version__`, are fine.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = sorted(p.name for p in (ROOT / 'components').iterdir() if (p / 'pyproject.toml').is_file())
IMPORTERS = {'import_module', '__import__'}


def _private(name: str) -> bool:
    return name.startswith('_') and not (name.startswith('__') and name.endswith('__'))


def _foreign_private(dotted: str, own: str) -> str | None:
    """The first private part of `embeddenator.<other>.<...>` when <other> is not `own`, else None."""
    parts = dotted.split('.')
    if len(parts) < 2 or parts[0] != 'embeddenator' or parts[1] == own:
        return None
    return next((p for p in parts[1:] if _private(p)), None)


def violations(source: str, own: str, filename: str = '<source>') -> list[str]:
    """`file:line: what` for every use of another component's private name in `source` (component `own`)."""
    tree = ast.parse(source, filename)
    siblings: dict[str, str] = {}          # local name -> component it stands for (`from embeddenator import vsa`)
    found = []
    for node in ast.walk(tree):
        bad = None
        if isinstance(node, ast.Import):
            bad = next((a.name for a in node.names if _foreign_private(a.name, own)), None)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _foreign_private(node.module, own):
                bad = node.module
            elif node.module == 'embeddenator':
                for alias in node.names:
                    if alias.name != own:
                        siblings[alias.asname or alias.name] = alias.name
            elif node.module.startswith('embeddenator.') and node.module.split('.')[1] != own:
                bad = next((f'{node.module}.{a.name}' for a in node.names if _private(a.name)), None)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, 'id', '')
            arg = node.args[0].value
            if func in IMPORTERS and isinstance(arg, str) and _foreign_private(arg, own):
                bad = arg
        if bad:
            found.append(f'{filename}:{node.lineno}: imports {bad}')
    for node in ast.walk(tree):            # `vsa._kernels` after `from embeddenator import vsa`
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in siblings \
                and _private(node.attr):
            found.append(f'{filename}:{node.lineno}: uses embeddenator.{siblings[node.value.id]}.{node.attr}')
    return found


@pytest.mark.parametrize('source, expected', [
    ('from embeddenator.vsa._kernels import PostingLists', 'imports embeddenator.vsa._kernels'),
    ('from embeddenator.vsa import _kernels', 'imports embeddenator.vsa._kernels'),
    ('from embeddenator.vsa import PackedMatrix, _pack_rows as pack', 'imports embeddenator.vsa._pack_rows'),
    ('import embeddenator.io._checks as checks', 'imports embeddenator.io._checks'),
    ('from embeddenator import vsa\nvsa._kernels.sparse_rows([], 3)', 'uses embeddenator.vsa._kernels'),
    ('from embeddenator import vsa as v\nx = v._path', 'uses embeddenator.vsa._path'),
    ('import importlib\nimportlib.import_module("embeddenator.vsa._kernels")', 'imports embeddenator.vsa._kernels'),
])
def test_the_rule_catches_each_way_of_reaching_a_private_name(source, expected):
    found = violations(source, own='retrieval')
    assert len(found) == 1 and found[0].endswith(expected), found


@pytest.mark.parametrize('source', [
    'from embeddenator.vsa import PostingLists, pack_rows, sparse_rows, __version__',
    'from embeddenator import obs as _obs\n_obs.info("x", "y")',
    'from embeddenator.retrieval._private import helper',      # its own privates
    'from embeddenator import retrieval\nretrieval._cache',
    'from . import _local',
])
def test_public_names_and_own_privates_pass(source):
    assert violations(source, own='retrieval') == []


@pytest.mark.parametrize('component', COMPONENTS)
def test_no_component_imports_a_private_name_of_another(component):
    src = ROOT / 'components' / component / 'src'
    found = []
    for path in sorted(src.rglob('*.py')):
        found += violations(path.read_text(encoding='utf-8'), component, str(path.relative_to(ROOT)))
    assert not found, 'use the public API (or make the name public in its component):\n' + '\n'.join(found)
