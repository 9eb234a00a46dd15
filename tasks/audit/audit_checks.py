"""The four audit checks. Each takes the workspace root and returns its result: a dict with "verdict",
"summary" (one line) and what the report shows; none raises, so a failed check is recorded like a passed one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tasks.audit import memcheck, sanitize
from tasks.core.kernels import extension_target, kernel_sources
from tasks.core import processes
from tasks.core.junit import JUnitError, counts
from tasks.audit.unsafe_inventory import describe, findings, manifest_sites, scan_source
from tasks.core.workspace import Workspace, load_workspace

DOCS = {
    'inventory': 'unsafe sites in the kernels and their headers; each needs a SAFETY: comment',
    'sanitizers': 'kernels rebuilt with ASan+UBSan under build/sanitizers; component and integration tests on them',
    'memcheck': 'valgrind memcheck over audit/kernel_workout.py on the SIMD paths valgrind can run',
    'fuzz': "the readers' fuzz run with a fixed time budget",
}
WORKOUT = Path('audit') / 'kernel_workout.py'
SUPPRESSIONS = Path('audit') / 'valgrind-python.supp'
GUARD = 'sanitizer_guard'     # audit/sanitizer_guard.py, beside these rules (not in the audited workspace)
GUARD_DIR = Path(__file__).resolve().parents[2] / 'audit'
# Debian packages of gcc 12's sanitizer runtimes.
RUNTIME_PACKAGES = {'libasan': 'libasan8', 'libubsan': 'libubsan1'}


def _rel(path: Path, root: Path) -> str:
    return Path(path).resolve().relative_to(root).as_posix()


def _result(ok: bool, summary: str, **details) -> dict:
    return {'verdict': 'pass' if ok else 'fail', 'summary': summary, **details}


# ------------------------------------------------------------------------------------------- inventory

def check_inventory(root: str) -> dict:
    root = Path(root)
    ws = load_workspace(root)
    inventories = [scan_source(p.read_text(encoding='utf-8'), _rel(p, root)) for p in kernel_sources(ws)]
    inventories += [manifest_sites(c.manifest.read_text(encoding='utf-8'), _rel(c.manifest, root),
                                   dict(c.cython_directives)) for c in ws.components.values() if c.extensions]
    found = findings(inventories)
    files = [{'file': i.file, 'sites': len(i.sites), 'reviewed': i.reviewed, 'notes': i.notes,
              'unreviewed': [s.line for s in i.findings], 'invariants': list(i.invariants)} for i in inventories]
    sites, reviewed = sum(f['sites'] for f in files), sum(f['reviewed'] for f in files)
    summary = f'{sites} sites in {len(files)} files, {reviewed} reviewed, {len(found)} without SAFETY:'
    return _result(not found, summary, files=files, sites=sites, reviewed=reviewed,
                   findings=[describe(s) for s in found])


# ------------------------------------------------------------------------------------------ sanitizers

def check_sanitizers(root: str, build_dir: str, suite: list[str], timeout: float) -> dict:
    root, build = Path(root), Path(build_dir)
    runtime = sanitize.runtime_library('libasan.so')
    ubsan = sanitize.runtime_library('libubsan.so')
    missing = [n for n, p in (('libasan', runtime), ('libubsan', ubsan)) if p is None]
    if missing:
        packages = ' '.join(RUNTIME_PACKAGES[m] for m in missing)
        return _result(False, f'sanitizer runtime not available: {", ".join(missing)} (install the compiler\'s '
                              f'runtime: apt-get install {packages})', available=False)
    ws = load_workspace(root)
    comps = [c for c in ws.components.values() if c.extensions]
    try:
        staged = [sanitize.stage_isolated(root, c, build / c.name) for c in comps]
    except (sanitize.SanitizeError, subprocess.TimeoutExpired) as err:   # recorded as this check's result
        first, *rest = str(err).splitlines()
        return _result(False, first, available=True, runs=[], imported=[], reports=['\n'.join(rest)])
    logs = build / 'logs'
    for old in logs.glob('*'):
        old.unlink()   # reports of an earlier run must not count in this one
    env = sanitize.sanitizer_env(staged, runtime, logs, [GUARD_DIR])
    # One pytest run per suite: each folder has its own conftest.py, which one run would import only once.
    groups = {c.name: [str(c.root / 'tests')] for c in comps}
    if suite:
        groups['integration'] = list(suite)
    runs = []
    for name, tests in groups.items():
        log, junit = logs / f'pytest-{name}.log', logs / f'junit-{name}.xml'
        # --capture=sys leaves file descriptor 2 on the log: a UBSan report goes there and the run stops, and
        # pytest's descriptor capture would drop it with the unfinished test's output.
        status = sanitize.run_logged([sys.executable, '-m', 'pytest', *tests, '-q', '-p', 'no:cacheprovider',
                                      '--capture=sys', '-p', GUARD, f'--junitxml={junit}'], env, log, timeout)
        runs.append({'what': f'{name} tests', 'status': status, 'log': _rel(log, root), 'junit': str(junit)})
    if (root / WORKOUT).is_file():
        status = sanitize.run_logged([sys.executable, str(root / WORKOUT)], env, logs / 'workout.log', timeout)
        workout = _last_json((logs / 'workout.log').read_text(encoding='utf-8', errors='replace')) or {}
        runs.append({'what': f'kernel workout ({workout.get("operations", "?")} operations on '
                             f'{", ".join(workout.get("paths", [])) or "no path"})', 'status': status,
                     'log': _rel(logs / 'workout.log', root)})
    return _sanitizer_result(logs, runs, staged)


def _sanitizer_result(logs: Path, runs: list[dict], staged) -> dict:
    reports = sanitize.sanitizer_reports(logs)
    record = logs / 'imported.txt'
    text = record.read_text(encoding='utf-8') if record.is_file() else ''
    imported = sorted({line.split(': ', 1)[1] for line in text.splitlines() if line.startswith('sanitized module: ')})
    found = []
    for run in runs:
        junit = run.pop('junit', None)
        try:
            found += [counts(Path(junit))] if junit else []
        except JUnitError:     # the run stopped before pytest wrote it: its status says so
            pass
    tests = (f'{sum(c.passed for c in found)} passed, {sum(c.failed for c in found)} failed, '
             f'{sum(c.skipped for c in found)} skipped')
    locations = [loc for r in reports for loc in sanitize.report_locations(r)]
    failed_runs = [r['what'] for r in runs if r['status'] != 0]
    ok = not reports and not failed_runs and len(imported) == sum(len(s.modules) for s in staged)
    if reports:
        summary = f'{len(reports)} sanitizer report(s) at {", ".join(locations[:3]) or "see log"}'
    elif failed_runs:
        summary = f'{", ".join(failed_runs)} failed under the sanitizer build ({tests})'
    elif not ok:
        summary = 'the sanitized module was not the one imported'
    else:
        summary = f'no ASan/UBSan report; tests {tests}'
    return _result(ok, summary, available=True, runs=runs, tests=tests, imported=imported,
                   reports=reports, locations=locations)


# ------------------------------------------------------------------------------------------- memcheck

def check_memcheck(root: str, build_dir: str, timeout: float) -> dict:
    root, build = Path(root), Path(build_dir)
    valgrind = memcheck.find_valgrind()
    if valgrind is None:
        return _result(False, 'valgrind not found (apt-get install valgrind)', ran=False)
    ws = load_workspace(root)
    comps = [c for c in ws.components.values() if c.extensions]
    objects = [str(extension_target(c, e)) for c in comps for e in c.extensions]
    machine = _workout_paths(root)
    xml = build / 'memcheck.xml'
    build.mkdir(parents=True, exist_ok=True)
    cmd = memcheck.valgrind_command(sys.executable, root / WORKOUT, [], xml, root / SUPPRESSIONS, valgrind)
    env = memcheck_env()
    status = sanitize.run_logged(cmd, env, build / 'workout.log', timeout)
    out = (build / 'workout.log').read_text(encoding='utf-8', errors='replace')
    workout = _last_json(out)
    if not xml.is_file() or workout is None:
        return _result(False, f'the workout did not finish under valgrind (status {status}, see '
                              f'{_rel(build / "workout.log", root)})', ran=False)
    result = memcheck.parse_memcheck_xml(xml.read_text(encoding='utf-8', errors='replace'), objects)
    ok, summary = memcheck.memcheck_verdict(result, workout['paths'], machine)
    if workout['failures'] or status != 0:
        ok, summary = False, f'workout failed under valgrind: {"; ".join(workout["failures"][:3])}'
    project = [e for e in result.errors if e.project]
    return _result(ok, summary, ran=True, paths=workout['paths'], machine_paths=machine,
                   operations=workout['operations'], suppressed=result.suppressed,
                   outside=memcheck.outside_summary(result),
                   errors=[{'kind': e.kind, 'what': e.what, 'frames': list(e.frames)} for e in project])


def memcheck_env() -> dict:
    """The environment without anything a sanitizer run sets (valgrind and ASan cannot share a process)."""
    env = {k: v for k, v in os.environ.items() if k not in sanitize.SANITIZER_VARIABLES}
    return dict(env, PYTHONMALLOC='malloc')


def _workout_paths(root: Path) -> list[str]:
    """The SIMD paths of the normal build on this machine (outside valgrind, which hides some)."""
    code = 'import json, embeddenator.vsa as v; print(json.dumps(list(v.available_paths())))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=root)
    return json.loads(out.stdout) if out.returncode == 0 else []


def _last_json(text: str) -> dict | None:
    for line in reversed(text.splitlines()):
        if line.startswith('{'):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


# ----------------------------------------------------------------------------------------------- fuzz

def fuzz_modules(ws: Workspace) -> list[tuple[str, Path]]:
    """(module, file) of every component's `fuzz` module: `python -m <module> --seconds N --seed S`."""
    found = []
    for comp in ws.components.values():
        path = comp.root.joinpath('src', *comp.import_name.split('.'), 'fuzz.py')
        if path.is_file():
            found.append((f'{comp.import_name}.fuzz', path))
    return found


def check_fuzz(root: str, build_dir: str, seconds: float) -> dict:
    root, build = Path(root), Path(build_dir)
    modules = fuzz_modules(load_workspace(root))
    if not modules:
        return _result(True, 'not available (no component has a fuzz module yet)', available=False, runs=[])
    build.mkdir(parents=True, exist_ok=True)
    runs = []
    for module, _ in modules:
        cmd = [sys.executable, '-m', module, '--seconds', f'{seconds:g}', '--seed', '0', '--keep', str(build)]
        # a reader that hangs past the budget is this check's failure, not an exception escaping it
        done = processes.run(cmd, timeout=seconds * 4 + 60)
        runs.append({'module': module, 'status': 'timeout' if done.timed_out else done.returncode,
                     'seconds': seconds, 'result': done.tail()})
    bad = [r['module'] for r in runs if r['status'] != 0]
    summary = '; '.join(f'{r["module"]}: {r["result"]}' for r in runs)
    return _result(not bad, summary, available=True, runs=runs)
