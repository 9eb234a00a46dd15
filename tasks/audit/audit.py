"""`audit`: the unsafe-code inventory, the sanitizer build, valgrind memcheck and the readers' fuzz, one report.

Each check is a subtask that records its result (pass or fail) as JSON under reports/audit/checks/, so an
unchanged input is never checked twice; `audit:report` renders reports/audit/audit.md with its JSON twin, the
security posture when nothing was found, and fails with a one-line reason otherwise. The checks re-run when
the kernel sources (pyx/, headers, the manifest), the code they exercise, or these rules change.

The helper scripts live in audit/: kernel_workout.py (every operation on every SIMD path),
sanitizer_guard.py (the pytest plugin proving the sanitized module was imported) and valgrind-python.supp.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from doit.task import clean_targets
from doit.tools import config_changed

from tasks.audit import audit_checks
from tasks.audit.audit_checks import fuzz_modules
from tasks.core.config import settings, workspace
from tasks.core.errors import failed
from tasks.core.files import component_files, remove_tree, replace_file, source_files
from tasks.core.kernels import build_definition, extension_inputs, kernel_sources
from tasks.core.reporting import render, write_report
from tasks.core.workspace import Workspace

HERE = Path(__file__).resolve().parent
# The rules each check follows: a change to one re-runs only the checks that use it.
RULES = [HERE / 'audit.py', HERE / 'audit_checks.py']
CHECK_RULES = {'inventory': [HERE / 'unsafe_inventory.py', HERE / 'safety_review.py', HERE / 'source_lines.py'],
               'sanitizers': [HERE / 'sanitize.py', *build_definition()],
               'memcheck': [HERE / 'memcheck.py'], 'fuzz': []}
TEMPLATES = ('audit.md.j2', 'security-posture.md.j2')
CHECKS = ('inventory', 'sanitizers', 'memcheck', 'fuzz')
DEFAULTS = {'audit_sanitizer_timeout': '420', 'audit_memcheck_timeout': '300', 'audit_fuzz_seconds': '20'}


def kernel_tests(ws: Workspace, suite: Path) -> list[Path]:
    """Integration test files that import a compiled component or one that depends on it."""
    heavy = {c.name for c in ws.components.values() if c.extensions}
    heavy |= {d for name in list(heavy) for d in ws.dependents(name)}
    pattern = re.compile(r'\bembeddenator\.(\w+)|from\s+embeddenator\s+import\s+([\w, ]+)')
    out = []
    for path in sorted(suite.glob('test_*.py')):
        names = {n.strip() for m in pattern.findall(path.read_text(encoding='utf-8')) for g in m
                 for n in g.split(',') if n.strip()}
        if names & heavy:
            out.append(path)
    return out


def check_path(name: str) -> Path:
    cfg = settings()
    return cfg.path(cfg.reports, 'audit', 'checks', f'{name}.json')


def _options() -> dict:
    cfg = settings()
    return {k: float(cfg.get(k, v)) for k, v in DEFAULTS.items()}


# ----------------------------------------------------------------------------------------------- report

def combine(results: dict, seconds: float | None = None) -> dict:
    """The report's data from every check's result; the verdict fails when any check fails."""
    failing = [name for name in CHECKS if results[name]['verdict'] != 'pass']
    inv = results['inventory']
    summary = (f'{inv["sites"]} unsafe sites, {inv["reviewed"]} reviewed; '
               + '; '.join(f'{n}: {results[n]["summary"]}' for n in CHECKS[1:]))
    if failing:
        summary = f'failed: {", ".join(failing)} — ' + summary
    return {'verdict': 'fail' if failing else 'pass', 'summary': summary, 'failing': failing,
            'seconds': seconds, **{name: results[name] for name in CHECKS}}


def write_audit(checks: dict, markdown: str, posture: str):
    """Action: render the audit report (and the security posture when it passes); fail with the reason."""
    results = {name: json.loads(Path(path).read_text(encoding='utf-8')) for name, path in checks.items()}
    data = combine(results, round(sum(r.get('seconds') or 0 for r in results.values()), 1))
    write_report(Path(markdown), TEMPLATES[0], data)
    if data['verdict'] == 'pass':
        replace_file(Path(posture), render(TEMPLATES[1], data))
        print(f'audit: pass: {data["summary"]}', file=sys.stderr)
        return True
    Path(posture).unlink(missing_ok=True)   # never leave a sign-off beside a failing audit
    for line in results['inventory'].get('findings', [])[:20]:
        print(line, file=sys.stderr)
    return failed(f'audit: {data["summary"]}; see {markdown}')


def _timed(check, *args):
    """Run a check function, record its result with its duration; the check itself never raises."""
    start = time.monotonic()
    out, result = args[-1], check(*args[:-1])
    result['seconds'] = round(time.monotonic() - start, 1)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    replace_file(Path(out), json.dumps(result, indent=2, sort_keys=True) + '\n')
    print(f'audit {check.__name__.removeprefix("check_")}: {result["verdict"]}: {result["summary"]}',
          file=sys.stderr)


# ------------------------------------------------------------------------------------------------- tasks

def task_audit():
    """audit the kernels: unsafe inventory, ASan/UBSan build, valgrind, fuzz -> reports/audit/"""
    ws, cfg, opts = workspace(), settings(), _options()
    sources = kernel_sources(ws)
    manifests = [c.manifest for c in ws.components.values() if c.extensions]
    compiled = [c for c in ws.components.values() if c.extensions]
    own = [p for c in compiled for p in component_files(ws, c)]
    scripts = source_files([ws.root / 'audit'])
    suite = kernel_tests(ws, ws.root / 'tests' / 'integration')
    rules = [str(p) for p in RULES]
    deps = {
        'inventory': sources + manifests,
        'sanitizers': sorted(set(sources + own + suite + scripts)),
        'memcheck': sorted(set(own + scripts + extension_inputs(compiled))),
        'fuzz': sorted({p for _, f in fuzz_modules(ws) for p in source_files([f.parent])}),
    }
    args = {
        'inventory': (str(ws.root),),
        'sanitizers': (str(ws.root), str(cfg.path(cfg.build, 'sanitizers')), [str(p) for p in suite],
                       opts['audit_sanitizer_timeout']),
        'memcheck': (str(ws.root), str(cfg.path(cfg.build, 'memcheck')), opts['audit_memcheck_timeout']),
        'fuzz': (str(ws.root), str(cfg.path(cfg.build, 'fuzz')), opts['audit_fuzz_seconds']),
    }
    for name in CHECKS:
        yield {
            'name': name,
            'doc': audit_checks.DOCS[name],
            'actions': [(_timed, [getattr(audit_checks, f'check_{name}'), *args[name], str(check_path(name))])],
            'file_dep': [str(p) for p in deps[name]] + rules + [str(p) for p in CHECK_RULES[name]],
            'targets': [str(check_path(name))],
            'uptodate': [config_changed({'options': opts, 'python': sys.version})],
            'clean': [clean_targets, (remove_tree, [str(cfg.path(cfg.build, name))])],
        }
    markdown = cfg.path(cfg.reports, 'audit', 'audit.md')
    posture = markdown.with_name('security-posture.md')
    yield {
        'name': 'report',
        'doc': 'reports/audit/audit.md and .json; security-posture.md only when nothing was found',
        'actions': [(write_audit, [{n: str(check_path(n)) for n in CHECKS}, str(markdown), str(posture)])],
        'file_dep': [str(check_path(n)) for n in CHECKS] + [str(ws.root / 'templates' / t) for t in TEMPLATES]
        + rules,
        'targets': [str(markdown), str(markdown.with_suffix('.json')), str(posture)],
        'clean': True,
    }
