"""The plugin's shape, read from its source: stages import only `core` (never each other, nothing private),
`core` imports no stage, the import graph has no cycle, the plugin never imports benchmarks/, no module of tasks/
is over 400 lines, and no action reports a failure by printing and returning False. The rules are in
tasks/README.md; this test is what keeps them."""
from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / 'tasks'
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


MODULES = {module_name(p): p for p in sorted(TASKS.rglob('*.py'))}


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import in the file, at any depth (a late import is an import too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, '') for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f'{node.module}.{alias.name}'
                found.append((sub, '') if sub in MODULES else (node.module, alias.name))
    return found


def stage(module: str) -> str:
    """`tasks.<stage>.…` -> stage; `tasks` itself is the root."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def plugin_edges() -> dict[str, set[str]]:
    return {name: {m for m, _ in imports(path) if m.split('.')[0] == 'tasks'} for name, path in MODULES.items()}


def test_the_stages_exist():
    assert {stage(m) for m in MODULES} >= {'core', 'compile', 'test', 'audit', 'bench', 'release'}


def test_stages_import_only_core_and_themselves():
    crossing = [f'{src} imports {dst}' for src, dsts in plugin_edges().items() for dst in dsts
                if stage(dst) not in ('core', stage(src)) and dst != 'tasks']
    assert crossing == []


def test_core_imports_no_stage():
    assert [f'{src} imports {dst}' for src, dsts in plugin_edges().items() if stage(src) == 'core'
            for dst in dsts if stage(dst) not in ('core', '')] == []


def test_no_module_imports_a_private_name_of_another():
    private = [f'{name} imports {mod}.{what}' for name, path in MODULES.items() for mod, what in imports(path)
               if mod.split('.')[0] == 'tasks' and mod != name and what.startswith('_')]
    assert private == []


def test_the_import_graph_has_no_cycle():
    graph = {src: {d for d in dsts if d in MODULES and d != src} for src, dsts in plugin_edges().items()}
    # a package's __init__ is imported with each of its modules: it may not import them back
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f'import cycle: {" -> ".join(err.args[1])}')


def test_the_plugin_does_not_import_the_benchmark_scripts():
    assert [name for name, path in MODULES.items() for mod, _ in imports(path)
            if mod.split('.')[0] == 'benchmarks'] == []


def _prints_to_stderr(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == 'stderr' for n in ast.walk(node))


def test_no_function_reports_a_failure_on_stderr_and_returns_false():
    """A failing action returns doit's TaskFailed with its one line (tasks.core.errors.failed), never False."""
    offenders = []
    for name, path in MODULES.items():
        for fn in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and _prints_to_stderr(fn) and any(
                    isinstance(r, ast.Return) and isinstance(r.value, ast.Constant) and r.value.value is False
                    for r in ast.walk(fn)):
                offenders.append(f'{name}.{fn.name}')
    assert offenders == []


@pytest.mark.parametrize('name', sorted(MODULES))
def test_no_module_is_over_400_lines(name):
    lines = len(MODULES[name].read_text(encoding='utf-8').splitlines())
    assert lines <= MAX_LINES, f'{MODULES[name].relative_to(ROOT)}: {lines} lines; split it by job'


def test_the_rules_see_imports_inside_functions(tmp_path):
    probe = tmp_path / 'probe.py'
    probe.write_text('def f():\n    from tasks.core import config\n    import tasks.release.verify\n')
    assert imports(probe) == [('tasks.core.config', ''), ('tasks.release.verify', '')]
