"""`mutate`: mutation testing of the plugin's pure logic with mutmut; the kill rate to reports/tests/mutation.md.

A mutant is one function with one small change (an operator, a constant, a condition, a dropped argument); a
test that fails on it kills it. A survivor is a change no test notices: a missing test, or an equivalent mutant
(the same behaviour), which EQUIVALENT names with the reason. mutmut writes its mutants/ folder beside the code,
so the run happens on a copy of the workspace's files under build/mutate/. It takes 7 to 12 minutes on 2 cores,
is not part of `doit publish`, and fails when fewer than `mutation-threshold` percent of the others are killed.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping

from doit.task import clean_targets
from doit.tools import config_changed

from tasks.core.config import settings, workspace
from tasks.core.errors import failed
from tasks.core.files import remove_tree
from tasks.core.reporting import write_report

HERE = Path(__file__).resolve().parent
TASKS = HERE.parent
# What is mutated: the shared core (workspace model and release order, settings, reports and files, JUnit
# reading, errors, uptodate helpers) and the release decisions: the bench gate's verdict, version rules, commit
# parsing, the publishing checklist. core's compiler wrappers (kernels, kernel_build) are left out: their tests
# compile, a minute per mutant. A pattern with a folder is a glob under tasks/; a bare name is found anywhere.
MODULES = ('core/workspace.py', 'core/config.py', 'core/reporting.py', 'core/uptodate.py', 'core/files.py',
           'core/junit.py', 'core/errors.py', 'bench_gate.py', 'versions.py', 'commits.py', 'checklist.py')
# The tests that exercise them; mutmut runs, for each mutant, only those that reach its function.
TESTS = ('tests/test_workspace.py', 'tests/test_core_settings_reports.py', 'tests/test_versions.py',
         'tests/test_commits.py', 'tests/test_changelog.py', 'tests/test_bench_gate.py', 'tests/test_bench_report.py',
         'tests/test_checklist.py', 'tests/test_package.py', 'tests/test_release_rules_edges.py',
         'tests/test_test_report.py', 'tests/test_integration_report.py')
# End-to-end task runs among them (each a minute of building and packaging per mutant reaching them); the
# functions they reach are also covered by direct tests.
DESELECT = ('test_package_builds_reproducibly', 'test_api_docs_build', 'test_doit_changelog_runs_again')
# Survivors judged equivalent (same observable behaviour), by function and changed text as the report shows
# them, with the reason. An entry stops matching when its function changes: the survivor is then judged again.
_CASE = 'codec names are case-insensitive'
_LOCALE = "the default is the locale's encoding, UTF-8 wherever the plugin runs (and always from Python 3.15)"
_MARKER = 'a PEP 508 marker contains no ";", so the first ";" is the only one'
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ('verdict', '…, key=lambda r: -(r.change or 0))', '…, key=lambda r: -(r.change or 1))'):
        'only critical and major rows are sorted, and their change is above 5%, never None or 0',
    ('file_mode', 'mask = os.umask(0)', 'mask = os.umask(1)'):
        'os.umask returns the previous mask whatever it sets, and the next line restores it',
    ('read_settings', "…root / 'setup.cfg', encoding='utf-8')", "…root / 'setup.cfg', encoding='UTF-8')"): _CASE,
    ('read_settings', "…(root / 'setup.cfg', encoding='utf-8')", "…(root / 'setup.cfg', encoding=None)"): _LOCALE,
    ('read_settings', "parser.read(root / 'setup.cfg', encoding='utf-8')", "parser.read(root / 'setup.cfg')"): _LOCALE,
    ('read_component', "…s(manifest.read_text(encoding='utf-8'))", '…s(manifest.read_text(encoding=None))'): _LOCALE,
    ('read_component', "…(manifest.read_text(encoding='utf-8'))", "…(manifest.read_text(encoding='UTF-8'))"): _CASE,
    ('replace_file', "fh.write(data.encode('utf-8') if isinstance(data, str) …",
     "fh.write(data.encode('UTF-8') if isinstance(data, str) …"): _CASE,
    ('replace_file', 'Path(tmp).unlink(missing_ok=True)', 'Path(tmp).unlink(missing_ok=None)'):
        'the temporary file always exists when the cleanup runs (mkstemp made it; only os.replace removes it)',
    ('replace_file', 'Path(tmp).unlink(missing_ok=True)', 'Path(tmp).unlink(missing_ok=False)'):
        'the temporary file always exists when the cleanup runs (mkstemp made it; only os.replace removes it)',
    ('render', '…locks=True, lstrip_blocks=True, autoescape=False)', '…locks=True, lstrip_blocks=True)'):
        "False is jinja2.Environment's default for autoescape",
    ('render', '…strip_blocks=True, autoescape=False)', '…strip_blocks=True, autoescape=None)'):
        'autoescape is only tested for truth',
    ('lazy_config_changed.__init__', 'super().__init__({}, encoder)', 'super().__init__(None, encoder)'):
        'the config is replaced by compute() before doit reads it',
    ('_body_and_breaking_note', 'in_note = False', 'in_note = None'): 'in_note is only tested for truth',
    ('message_level', "…PE_LEVEL.get(message.type or ''), 'patch' if message.scope =…",
     "…PE_LEVEL.get(message.type or 'XXXX'), 'patch' if message.scope =…"):
        "a commit without a type looks up '' or 'XXXX' in TYPE_LEVEL, and neither is a key: None either way",
    ('_with_specifier', 'marker = f"; {text.split(\';\', 1)[1].strip()}" if req.marker e…',
     'marker = f"; {text.split(\';\')[1].strip()}" if req.marker e…'): _MARKER,
    ('_with_specifier', 'marker = f"; {text.split(\';\', 1)[1].strip()}" if …',
     'marker = f"; {text.rsplit(\';\', 1)[1].strip()}" if …'): _MARKER,
    ('_with_specifier', 'marker = f"; {text.split(\';\', 1)[1].strip()}" if req.marker e…',
     'marker = f"; {text.split(\';\', 2)[1].strip()}" if req.marker e…'): _MARKER,
}
STATUS = {1: 'killed', 3: 'killed', 0: 'survived', 5: 'no tests', 33: 'no tests', 34: 'skipped', 36: 'timeout',
          24: 'timeout', -24: 'timeout', 152: 'timeout', 255: 'timeout', 37: 'killed', None: 'not checked'}
DEFAULTS = {'mutation-threshold': '90', 'mutation-children': '2'}


# ---------------------------------------------------------------------------------------------- the plan

def mutated_modules(tasks_dir: Path, patterns: Iterable[str] = MODULES) -> list[Path]:
    """Every module a pattern names: a glob under `tasks_dir` when it has a folder, else a name searched for
    anywhere below it; a pattern that names nothing is skipped (a module not there yet, or moved away)."""
    found: set[Path] = set()
    for pattern in patterns:
        found.update(tasks_dir.glob(pattern) if '/' in pattern else tasks_dir.rglob(pattern))
    return sorted(found)


def mutmut_config(modules: Iterable[str], tests: Iterable[str], deselect: Iterable[str], children: int) -> str:
    """The `[tool.mutmut]` table for the staged copy (paths relative to its root)."""
    expr = ' and '.join(f'not {name}' for name in deselect)
    table = {'source_paths': ['tasks'], 'only_mutate': sorted(modules), 'also_copy': ['templates', 'components'],
             'pytest_add_cli_args': ['-p', 'no:cacheprovider', '-p', 'no:randomly'] + (['-k', expr] if expr else []),
             'pytest_add_cli_args_test_selection': list(tests), 'max_children': children}
    lines = ['', '[tool.mutmut]']
    lines += [f'{key} = {json.dumps(value)}' for key, value in table.items()]
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------------------------------------ results

def read_results(mutants: Path, modules: Iterable[str]) -> dict[str, dict[str, str]]:
    """module path -> mutant name -> status, from the `.meta` files mutmut writes beside each mutated copy."""
    out = {}
    for module in modules:
        meta = mutants / (module + '.meta')
        codes = json.loads(meta.read_text(encoding='utf-8'))['exit_code_by_key'] if meta.is_file() else {}
        out[module] = {name: STATUS.get(code, 'suspicious') for name, code in sorted(codes.items())}
    return out


def mutant_changes(source: str, module: str) -> dict[str, tuple[str, str]]:
    """Mutant name -> (removed, added) lines, read from the mutated copy of a module: mutmut keeps each mutant
    as a function beside the original (`<name>__mutmut_<n>` and `<name>__mutmut_orig`); reading them here
    costs nothing, where `mutmut show` starts a process per mutant."""
    bodies = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and '__mutmut_' in node.name:
            lines = [ln.strip() for ln in ast.unparse(node).splitlines()]
            bodies[node.name] = [lines[0].replace(node.name, '', 1), *lines[1:]]    # a default may be mutated
    out = {}
    for name, body in bodies.items():
        base, _, suffix = name.rpartition('__mutmut_')
        original = bodies.get(f'{base}__mutmut_orig')
        if suffix == 'orig' or original is None:
            continue
        diff = list(difflib.ndiff(original, body))
        removed = ' / '.join(ln[2:] for ln in diff if ln.startswith('- '))
        added = ' / '.join(ln[2:] for ln in diff if ln.startswith('+ '))
        out[f'{module}.{name}'] = _window(removed, added)
    return out


def _window(before: str, after: str, context: int = 30) -> tuple[str, str]:
    """The two texts cut to where they differ, with `context` characters either side (long statements)."""
    head = len(os.path.commonprefix([before, after]))
    tail = len(os.path.commonprefix([before[head:][::-1], after[head:][::-1]]))
    start = max(0, head - context)

    def cut(text: str) -> str:
        end = min(len(text), len(text) - tail + context)
        return ('…' if start else '') + text[start:end] + ('…' if end < len(text) else '')
    return cut(before), cut(after)


def function_of(mutant: str) -> str:
    """`tasks.commits.x_parse_message__mutmut_7` -> `parse_message` (methods: `xǁClassǁmethod`)."""
    name = mutant.rsplit('.', 1)[-1].rsplit('__mutmut_', 1)[0]
    return name.removeprefix('x_').replace('xǁ', '').replace('ǁ', '.')


def summarise(results: Mapping[str, Mapping[str, str]], changes: Mapping[str, tuple[str, str]], threshold: float,
              equivalent: Mapping[tuple[str, str, str], str] = EQUIVALENT, seconds: float | None = None) -> dict:
    """The report's data: per module and in total, mutants killed out of those not judged equivalent."""
    modules, survivors, equivalents = [], [], []
    for module, statuses in results.items():
        killed = sum(s == 'killed' for s in statuses.values())
        judged = 0
        for name, status in statuses.items():
            if status == 'killed':
                continue
            minus, plus = changes.get(name, ('', ''))
            row = {'mutant': name, 'module': module, 'function': function_of(name), 'status': status,
                   'before': minus, 'after': plus}
            reason = equivalent.get((row['function'], minus, plus))
            if reason:
                judged += 1
                equivalents.append({**row, 'reason': reason})
            else:
                survivors.append(row)
        counted = len(statuses) - judged
        modules.append({'module': module, 'mutants': len(statuses), 'killed': killed, 'equivalent': judged,
                        'rate': round(100 * killed / counted, 1) if counted else None})
    total = sum(m['mutants'] for m in modules)
    killed = sum(m['killed'] for m in modules)
    counted = total - len(equivalents)
    rate = round(100 * killed / counted, 1) if counted else 0.0
    ok = counted > 0 and rate >= threshold
    summary = (f'{killed} of {counted} non-equivalent mutants killed ({rate}%, threshold {threshold:g}%); '
               f'{len(survivors)} survived, {len(equivalents)} judged equivalent')
    return {'verdict': 'pass' if ok else 'fail', 'summary': summary, 'rate': rate, 'threshold': threshold,
            'mutants': total, 'killed': killed, 'counted': counted, 'modules': modules, 'survivors': survivors,
            'equivalent': equivalents, 'seconds': seconds}


# ------------------------------------------------------------------------------------------------- action

def _stage(root: Path, stage: Path) -> None:
    """A copy of the workspace's files as git sees them (tracked, and new ones not ignored: a test written
    before its commit counts), without build outputs or an earlier run's mutants."""
    shutil.rmtree(stage, ignore_errors=True)
    tracked = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=root,
                             capture_output=True, check=True).stdout
    for name in filter(None, os.fsdecode(tracked).split('\0')):
        source, target = root / name, stage / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _mutmut(stage: Path, *args: str, log) -> int:
    env = {k: v for k, v in os.environ.items() if k != 'EMBEDDENATOR_SIMD'}
    return subprocess.run([sys.executable, '-m', 'mutmut', *args], cwd=stage, env=env, stdout=log,
                          stderr=subprocess.STDOUT).returncode


def run_mutation(root: str, stage: str, modules: list[str], markdown: str, threshold: float, children: int,
                 tests: Iterable[str] = TESTS, deselect: Iterable[str] = DESELECT):
    """Action: stage the workspace, run mutmut over `modules`, write the report; fail below the threshold."""
    root_path, stage_path = Path(root), Path(stage)
    if importlib.util.find_spec('mutmut') is None:
        return failed('mutate: mutmut is not installed; pip install -r requirements-dev.txt')
    start = time.monotonic()
    _stage(root_path, stage_path)
    with open(stage_path / 'pyproject.toml', 'a', encoding='utf-8') as fh:
        fh.write(mutmut_config(modules, tests, deselect, children))
    log = stage_path.parent / 'mutmut.log'
    print(f'mutate: mutmut over {len(modules)} modules (7 to 12 minutes; log {log})', file=sys.stderr, flush=True)
    with open(log, 'w', encoding='utf-8') as out:
        status = _mutmut(stage_path, 'run', log=out)
    results = read_results(stage_path / 'mutants', modules)
    if status != 0 or not any(results.values()):
        return failed(f'mutate: mutmut run failed (exit {status}); see the end of {log}')
    changes = {}
    for module in modules:
        mutated = stage_path / 'mutants' / module
        if mutated.is_file():
            dotted = module.removesuffix('.py').replace('/', '.')
            changes.update(mutant_changes(mutated.read_text(encoding='utf-8'), dotted))
    data = summarise(results, changes, threshold, seconds=round(time.monotonic() - start))
    write_report(Path(markdown), 'mutation.md.j2', data)
    print(f'mutate: {data["summary"]} ({data["seconds"]} s; see {markdown})', file=sys.stderr)
    if data['verdict'] != 'pass':
        return failed(f'mutate: {data["summary"]}; add tests for the survivors in {markdown}')
    return None


def task_mutate():
    """mutation testing (mutmut) of the plugin's pure logic -> reports/tests/mutation.md (7 to 12 minutes)"""
    ws, cfg = workspace(), settings()
    opts = {k: cfg.get(k, v) for k, v in DEFAULTS.items()}
    modules = [p.relative_to(ws.root).as_posix() for p in mutated_modules(TASKS)]
    stage = cfg.path(cfg.build, 'mutate', 'workspace')
    markdown = cfg.path(cfg.reports, 'tests', 'mutation.md')
    return {
        'actions': [(run_mutation, [str(ws.root), str(stage), modules, str(markdown),
                                    float(opts['mutation-threshold']), int(opts['mutation-children'])])],
        'file_dep': [str(ws.root / m) for m in modules] + [str(ws.root / t) for t in TESTS]
        + [str(HERE / 'mutate.py'), str(ws.root / 'templates' / 'mutation.md.j2')],
        'targets': [str(markdown), str(markdown.with_suffix('.json'))],
        'uptodate': [config_changed({'options': opts, 'python': sys.version})],
        'clean': [clean_targets, (remove_tree, [str(stage.parent)])],
    }
