"""`publish:<component>` in the graph's order and `publish` for all: preflight, then the steps of tasks.release.release.

`doit publish --dry-run` (a task parameter) does everything but upload and tag, installing from the built files
instead; its logs and report go to reports/publishing/dry-run/. Each component's action re-renders the run's
report, so a failed run still leaves one that says where it stopped.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path

from doit import task_params
from doit.exceptions import TaskFailed
from doit.task import clean_targets

from tasks.core.config import settings, workspace
from tasks.core.errors import PluginError, failed
from tasks.core.files import remove_tree, replace_file
from tasks.core import processes
from tasks.core.reporting import write_report
from tasks.release import preflight, sbom, tagging
from tasks.release.history import tag_pattern
from tasks.release.index_api import check_reachable, check_upload_credentials
from tasks.release.package import dist_dir, distributions, report_path, sdist_path
from tasks.release.plan_task import plan_task
from tasks.release.records import merge_record
from tasks.release.redact import scrub, scrub_data
from tasks.release.registry import RegistryError, open_registry, remote_registry, served_files
from tasks.release.release import (PublishError, Release, Steps, Verifier, dry_run_release, manifest_scripts,
                                   publish_release, stamp)

#: One id per doit process: the records and the shared venv of this run.
RUN_ID = f'{time.strftime("%Y%m%dT%H%M%S", time.gmtime())}-{os.getpid()}'


def out_dir(dry_run: bool) -> Path:
    cfg = settings()
    base = cfg.path(cfg.reports, 'publishing')
    return base / 'dry-run' if dry_run else base


def run_dir(run: str) -> Path:
    cfg = settings()
    return cfg.path(cfg.build, 'publish', run)


def make_release(name: str) -> Release:
    """The release of `name` from the workspace and its package report (the files it built and their digests)."""
    ws = workspace()
    comp = ws.components[name]
    report = json.loads(report_path(name).with_suffix('.json').read_text(encoding='utf-8'))
    if report['verdict'] != 'pass':
        raise PublishError(f'{report_path(name)}: the publishing checklist failed ({report["summary"]}); fix it and '
                           f'run `doit package:{name}`')
    closure = sorted(ws.closure(name))
    return Release(name=name, dist=comp.dist, version=comp.version, level=comp.level, import_name=comp.import_name,
                   files=tuple(distributions(comp)), sha256={f['name']: f['sha256'] for f in report['files']},
                   siblings={ws.components[d].dist: ws.components[d].version for d in closure},
                   sibling_wheels=tuple(distributions(ws.components[d])[1] for d in closure),
                   modules=tuple(e.name for e in comp.extensions), scripts=manifest_scripts(comp.manifest),
                   tag_pattern=tag_pattern())


def check_preflight(root: Path, dry_run: bool) -> tuple[list[preflight.Gate], list[str]]:
    """Gates and git state; raises PublishError if publishing must not start. Returns (gates, warnings)."""
    cfg = settings()
    gates = preflight.read_gates(cfg.path(cfg.reports))
    warnings = []
    failed = preflight.blocking(gates)
    if failed:
        raise PublishError('; '.join(f'gate {g.name} failed: {g.summary} ({g.path})' for g in failed) +
                           '; fix it, re-run its task, then publish')
    dirty = tagging.dirty_paths(root)
    inside = release_paths(dirty)
    if inside:
        message = (f'the git tree is not clean where the release is built from ({len(inside)} paths, e.g. '
                   f'{", ".join(inside[:3])}); commit or remove them: a release is built from a commit')
        if not dry_run:
            raise PublishError(message)
        warnings.append(message)
    if len(dirty) > len(inside):
        outside = [p for p in dirty if p not in inside]
        warnings.append(f'{len(outside)} changed paths outside the released files (e.g. {", ".join(outside[:3])})')
    warn_once(warnings)
    return gates, warnings


_WARNED: set[str] = set()       # warnings this process has printed: every package meets the same git state


def warn_once(warnings: list[str]) -> None:
    """Print each warning on stderr the first time this run meets it (each package's record keeps them all)."""
    for warning in warnings:
        if warning not in _WARNED:
            _WARNED.add(warning)
            print(scrub(f'publish: warning: {warning}'), file=sys.stderr)


def release_paths(paths: list[str]) -> list[str]:
    """The paths that go into a component's archives: under its declared paths, except its CHANGELOG.md.

    Tasks of the run itself write tracked files outside them (a changelog that loses its draft mark once tagged, a
    benchmark baseline stored by `doit bench_baseline`); those cannot make the archives differ from the tagged commit.
    """
    ws = workspace()
    owned = [p.rstrip('/') + '/' for c in ws.components.values() for p in c.paths]
    changelogs = {(c.root / 'CHANGELOG.md').relative_to(ws.root).as_posix() for c in ws.components.values()}
    return [p for p in paths if p not in changelogs and any(p.startswith(o) for o in owned)]


def publish_component(name: str, dry_run: bool, run: str) -> bool:
    """The action of `publish:<name>`: one record in the run's report; False with one line on stderr on failure."""
    ws, cfg = workspace(), settings()
    out = out_dir(dry_run)
    comp = ws.components[name]
    record = {'component': name, 'dist': comp.dist, 'version': comp.version, 'level': comp.level, 'run': run,
              'files': [], 'status': 'failed', 'uploaded': None, 'served': None, 'verified': None, 'tag': None,
              'error': None, 'warnings': [], 'index': cfg.get('index', 'local'), 'built': None, 'tagged': None}
    previous = _read_record(out, name)
    gates: list[preflight.Gate] = []
    try:
        rel = make_release(name)
        # the package report is written when package:<name> has built and checked the files: the build's end
        record['built'] = stamp(report_path(name).with_suffix('.json').stat().st_mtime)
        record['files'] = [{'name': n, 'sha256': d} for n, d in sorted(rel.sha256.items())]
        verifier = Verifier(run_dir(run), ws.root / cfg.components, out / 'logs',
                            cfg.get('third-party-index-url', ''))
        if dry_run:
            gates, record['warnings'] = check_preflight(ws.root, dry_run)
            record.update(_dry_run(rel, verifier))
            record['sboms'] = bills(rel, verifier, out)
        else:
            identity = tagging.tagger_identity(ws.root, cfg.get('tag-identity'))
            gates = preflight.read_gates(cfg.path(cfg.reports))
            with open_registry(cfg) as registry:
                steps = Steps(root=ws.root, identity=identity, verifier=verifier,
                              served_timeout=float(cfg.get('served-timeout', '120')),
                              preflight=functools.partial(check_preflight, ws.root, False))
                record.update(publish_release(rel, registry, steps, out / 'logs' / f'{name}.log'))
                again = record['verified'] is None and not all(sbom.sbom_path(f).is_file() for f in rel.files)
                if again:
                    verifier(rel, registry)   # published by an earlier run and built again since: for its bills
                record['sboms'] = (bills(rel, verifier, out) if record['verified'] or again else
                                   [_relative(str(sbom.sbom_path(f)), ws.root) for f in rel.files])
    except PluginError as err:
        record['error'] = scrub(str(err))
    record = merge_record(previous, record)
    _write_record(out, record)
    render_report(dry_run, run, gates)
    if record['error'] is not None:
        return failed(f'publish:{name}: {record["error"]}')
    print(f'publish:{name}: {record["status"]}', file=sys.stderr)
    return True


def bills(rel: Release, verifier: Verifier, out: Path) -> list[str]:
    """The CycloneDX bills of `rel`'s files from the venv that just verified it, beside them and under out/sbom/."""
    inspected, reports = verifier.resolved()
    if not inspected.get('installed'):
        raise PublishError(f'{rel.dist}: `pip inspect` of the verification venv gave nothing; no bill of materials '
                           f'(see {verifier.log_dir / (rel.name + ".log")})')
    package = json.loads(report_path(rel.name).with_suffix('.json').read_text(encoding='utf-8'))
    written = sbom.write_sboms({f: rel.sha256[f.name] for f in rel.files}, rel.dist, rel.version,
                               sbom.installed(inspected, sbom.archive_hashes(reports)), inspected.get('environment'),
                               package.get('toolchain') or {}, out / 'sbom' / rel.name)
    return [_relative(str(p), workspace().root) for p in written]


def remove_sboms(name: str, dry_run: bool) -> None:
    """The clean action of `publish:<name>`: its bills beside the archives (a wheel's name is not fixed) and the
    copies under reports/publishing/."""
    for path in dist_dir(workspace().components[name]).glob(f'*{sbom.SUFFIX}'):
        path.unlink(missing_ok=True)
    remove_tree(str(out_dir(dry_run) / 'sbom' / name))


def _dry_run(rel: Release, verifier: Verifier) -> dict:
    """Compare with the configured index when it can be reached, then install from the built files."""
    find_links = tuple(sorted({f.parent for f in (rel.wheel, *rel.sibling_wheels)}))
    try:
        with open_registry(settings()) as registry:   # reading needs no upload token; a private index, the login
            served = served_files(registry, rel.dist)
    except RegistryError as err:
        print(scrub(f'dry run: the index cannot be compared ({err})'), file=sys.stderr)
        served = {}
    return dry_run_release(rel, served, verifier, find_links)


def _record_path(out: Path, name: str) -> Path:
    return out / 'components' / f'{name}.json'


def _read_record(out: Path, name: str) -> dict | None:
    try:
        return json.loads(_record_path(out, name).read_text(encoding='utf-8'))
    except (FileNotFoundError, ValueError):
        return None


def _write_record(out: Path, record: dict) -> None:
    record = scrub_data(record)
    replace_file(_record_path(out, record['component']), json.dumps(record, indent=2, sort_keys=True) + '\n')


def render_report(dry_run: bool, run: str, gates: list[preflight.Gate] | None = None) -> bool:
    """reports/publishing/publish.md and .json from this run's records, in publish order."""
    ws, cfg = workspace(), settings()
    out = out_dir(dry_run)
    gates = gates or preflight.read_gates(cfg.path(cfg.reports))
    rows = []
    for name, comp in ws.components.items():
        record = _read_record(out, name)
        if record is None or record.get('run') != run:
            record = {'component': name, 'dist': comp.dist, 'version': comp.version, 'level': comp.level,
                      'status': 'not reached', 'files': [], 'uploaded': None, 'served': None, 'verified': None,
                      'tag': None, 'error': None}
        rows.append(record)
    failed = [r for r in rows if r['error'] or r['status'] in ('failed', 'not reached')]
    done = len(rows) - len(failed)
    try:
        index = 'local index' if remote_registry(cfg) is None else cfg.get('index')
    except RegistryError:
        index = cfg.get('index')
    data = {'dry_run': dry_run, 'run': run, 'index': index, 'commit': tagging.head_commit(ws.root),
            'started': None, 'generated': stamp(), 'verdict': 'fail' if failed else 'pass',
            'summary': f'{done}/{len(rows)} components ' + ('verified from the built files' if dry_run else
                                                            'published and verified'),
            'gates': [{**g.as_dict(), 'path': _relative(g.path, ws.root)} for g in gates], 'components': rows,
            'reruns': [r for r in rows if len(r.get('history') or ()) > 1]}
    write_report(out / 'publish.md', 'publish.md.j2', scrub_data(data))
    return True


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def publish_preflight(dry_run: bool) -> TaskFailed | None:
    """The action of `publish:preflight`, before any gate: what would stop the release minutes later, now.

    A publish needs the upload login (checked by an authenticated upload of nothing), a reachable index and a git
    identity for the tags; a dry run only reads, so it needs the index's read access (none for a public index).
    """
    cfg = settings()
    try:
        registry = remote_registry(cfg)
        if not dry_run:
            tagging.tagger_identity(workspace().root, cfg.get('tag-identity'))
        if registry is None:
            print('publish preflight: the embedded index (started for the run)', file=sys.stderr)
            return None
        if not dry_run:
            check_upload_credentials(registry)
        check_reachable(registry)
    except PluginError as err:
        return failed(scrub(f'publish preflight: {err}'))
    login = f'user {registry.username}' if registry.password else 'no login'
    print(f'publish preflight: {registry.name} answers at {registry.simple_url} ({login}'
          f'{"" if dry_run else ", upload accepted"})', file=sys.stderr)
    return None


def finish_run(dry_run: bool, run: str) -> bool:
    """The action of `publish:report`: the final report; the venvs of this run and of killed ones removed."""
    render_report(dry_run, run)
    for folder in run_dir(run).parent.glob('*'):
        Verifier(folder, Path(), Path()).discard()
    print(f'publish report: {out_dir(dry_run) / "publish.md"}', file=sys.stderr)
    return True


def render_dashboard() -> bool:
    """The teardown of a publish, passed or failed: the dashboard (reports/index.html) from the reports as they are.

    The report stage renders it in its own process (`python -m tasks.report`): stages meet through the files they
    write, never an import. A dashboard that cannot be drawn is a line on stderr, not a second failure.
    """
    done = processes.run([sys.executable, '-m', 'tasks.report'], cwd=workspace().root, timeout=120)
    print(done.output.strip() if done.ok else f'publish: the dashboard was not rendered: {done.tail()}',
          file=sys.stderr)
    return True


@task_params([{'name': 'dry_run', 'long': 'dry-run', 'type': bool, 'default': False,
               'help': 'everything but upload and tag; install from the built files (reports/publishing/dry-run/)'},
              {'name': 'plan', 'long': 'plan', 'type': bool, 'default': False,
               'help': 'only print and write the publish plan (reports/publishing/plan.md), as `doit publish_plan`'}])
def task_publish(dry_run=False, plan=False):
    """publish every component in dependency order: gates, upload, wait until served, verify, tag"""
    ws, cfg = workspace(), settings()
    gates = preflight.gate_tasks(cfg.get('publish-runs-gates', 'yes').lower() not in ('no', 'false', '0'))
    out = out_dir(dry_run)
    docs = ['apidocs']   # the docs.rs check
    # first: a group dict yielded after its subtasks would replace the group and lose their task_dep
    yield {'name': None, 'doc': 'publish every component in dependency order: gates, upload, wait until served, '
                                'verify, tag'}
    if plan:   # the plan alone: it builds nothing, so nothing else of the graph is yielded
        yield {'name': 'plan', 'doc': 'the publish plan only (as `doit publish_plan`)', **plan_task(targets=False)}
        return
    yield {
        'name': 'preflight',   # listed before the gates in each task_dep: doit runs it first, and stops there
        'doc': 'check the login, the index and the tag identity before the gates run',
        'actions': [(publish_preflight, [dry_run])],
        'uptodate': [False],
        'teardown': [render_dashboard],   # doit runs it when the run ends, also after a gate or a publish failed
    }
    yield {
        # after the gates and the builds, before the first upload. Every publish:<name> depends on it: doit does
        # not run a group's subtasks strictly in the order they are yielded (one whose dependencies are ready
        # first goes first), so only a dependency makes it come first. `doit publish:vsa` builds every package too
        'name': 'plan',
        'doc': 'print the publish plan (reports/publishing/plan.md) once the packages are built',
        **plan_task(targets=False, file_dep=[str(f) for c in ws.components.values()
                                             for f in (report_path(c.name).with_suffix('.json'), sdist_path(c))],
                    task_dep=['publish:preflight', *gates]),
    }
    for name, comp in ws.components.items():
        yield {
            'name': name,
            'doc': f'{"dry-run " if dry_run else ""}publish {comp.dist} {comp.version} (level {comp.level}) '
                   f'after {", ".join(comp.deps) or "nothing"}',
            'actions': [(publish_component, [name, dry_run, RUN_ID])],
            # the report lists (and digests) the files package built; the sdist's name is fixed, a wheel's is not
            'file_dep': [str(report_path(name).with_suffix('.json')), str(sdist_path(comp))],
            'targets': [str(out / 'components' / f'{name}.json'), str(sbom.sbom_path(sdist_path(comp)))],
            'uptodate': [False],   # the index and the tags decide what is left to do, not doit's state
            'task_dep': ['publish:preflight', *gates, 'publish:plan', *(f'{task}:{name}' for task in docs),
                         *(f'publish:{dep}' for dep in comp.deps)],
            'clean': [clean_targets, (remove_sboms, [name, dry_run])],
        }
    yield {
        'name': 'report',   # component names cannot collide: a component's folder is lowercase a-z0-9_
        'doc': f'write {(out / "publish.md").relative_to(ws.root)} and remove the run\'s venv',
        'actions': [(finish_run, [dry_run, RUN_ID])],
        'targets': [str(out / 'publish.md'), str(out / 'publish.json')],
        'uptodate': [False],
        'task_dep': [f'publish:{name}' for name in ws.components],
        'clean': True,
    }
