"""`package:<component>`: build the sdist and wheel into dist/<name>/ and run the publishing checklist on them.

The sdist is built from a staging copy holding the component's files plus every workspace path it declares
(vsa: `pyx/`, with the C that Cython generates from it), so it compiles with no workspace around it; the wheel is
then built from the unpacked sdist, which proves that. SOURCE_DATE_EPOCH is the time of the last commit touching
the component, and the sdist is re-packed with fixed owners and times: two builds of one commit are
byte-identical, which is what lets a re-run recognise its own uploads by SHA-256.
"""
from __future__ import annotations

import functools
import gzip
import io
import json
import operator
import os
import shutil
import subprocess
import sysconfig
import sys
import tarfile
import tomllib
import zipfile
from importlib.metadata import version as installed_version
from pathlib import Path

from doit.task import clean_targets
from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, canonicalize_name, parse_sdist_filename,
                             parse_wheel_filename)
from packaging.version import Version

from tasks.core.errors import PluginError, failed
from tasks.core import kernel_build
from tasks.core.files import remove_tree
from tasks.core.kernels import extension_inputs
from tasks.core.processes import run
from tasks.release.checklist import (Finding, check_baseline_isa, check_changelog, check_manifest, check_readme,
                                     check_sizes)
from tasks.core.config import settings, workspace
from tasks.release.registry import sha256_file
from tasks.release.sbom import toolchain
from tasks.core.reporting import write_report
from tasks.release.tagging import last_change_time
from tasks.core.uptodate import lazy_config_changed
from tasks.core.workspace import Component

SIZE_LIMIT = 10 * 1024 * 1024
BUILD_TOOLS = ('build', 'setuptools', 'wheel', 'Cython')


class PackageError(PluginError):
    """A build of the distributions failed; the message names the component and the log."""


# ---------------------------------------------------------------- paths and names

def dist_dir(comp: Component) -> Path:
    return settings().path('dist', comp.name)


def work_dir(comp: Component) -> Path:
    cfg = settings()
    return cfg.path(cfg.build, 'package', comp.name)


def report_path(name: str) -> Path:
    cfg = settings()
    return cfg.path(cfg.reports, 'package', f'{name}.md')


def sdist_path(comp: Component) -> Path:
    """The sdist's name is fixed by the standard (PEP 625): the normalized name and the version."""
    return dist_dir(comp) / f'{canonicalize_name(comp.dist).replace("-", "_")}-{comp.version}.tar.gz'


def check_names(comp: Component, sdist: Path, wheel: Path) -> None:
    """PackageError unless both archives carry the component's name and version (the wheel's tags are build's
    to choose: cpXY, abi3, manylinux...)."""
    want = (canonicalize_name(comp.dist), Version(comp.version))
    for path, parse in ((sdist, parse_sdist_filename), (wheel, parse_wheel_filename)):
        try:
            got = parse(path.name)[:2]
        except (InvalidSdistFilename, InvalidWheelFilename):
            got = None
        if got != want:
            raise PackageError(f'{comp.manifest}: built {path.name}, not {comp.dist} {comp.version}; check '
                               f'[project] name and version')


def distributions(comp: Component) -> list[Path]:
    """The sdist and the wheel the last `package:<name>` built, as its report lists them (read, not guessed)."""
    report = report_path(comp.name).with_suffix('.json')
    try:
        files = json.loads(report.read_text(encoding='utf-8'))['files']
        return [settings().root / f['path'] for f in files]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PackageError(f'{report}: no readable package report ({err}); run `doit package:{comp.name}`') from None


def source_date_epoch(root: Path, comp: Component) -> int:
    """The last commit time of what goes into the archives (the CHANGELOG does not)."""
    changelog = (comp.root / 'CHANGELOG.md').relative_to(root).as_posix()
    return last_change_time(root, list(comp.paths), exclude=[changelog])


def release_files(root: Path, paths: list[str]) -> list[Path]:
    """Files under `paths` that git tracks or would track (not ignored): exactly what a release contains."""
    prefixes = tuple(p.rstrip('/') + '/' for p in paths)
    return sorted(f for rel, f in _listed_files(root) if rel.startswith(prefixes) or rel in paths)


@functools.cache
def _listed_files(root: Path) -> list[tuple[str, Path]]:
    """Every file of the work tree git tracks or would track, listed once (one `git ls-files` for all components)."""
    import git
    out = git.Repo(root).git.ls_files('--cached', '--others', '--exclude-standard')
    return [(line, root / line) for line in out.splitlines() if (root / line).is_file()]


# ---------------------------------------------------------------- building

def stage(root: Path, comp: Component, folder: Path, epoch: int) -> Path:
    """A copy of the component with its other declared paths inside it, every mtime set to `epoch`; a component
    with extensions also gets the build definition its setup.py shares with `doit build` (kernel_build.py)."""
    shutil.rmtree(folder, ignore_errors=True)
    own = comp.root.relative_to(root).as_posix()
    for src in release_files(root, list(comp.paths)):
        rel = src.relative_to(root).as_posix()
        dest = folder / (rel[len(own) + 1:] if rel.startswith(own + '/') else rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    if comp.extensions:
        shutil.copy2(kernel_build.__file__, folder / 'kernel_build.py')
    for path in [folder, *folder.rglob('*')]:
        os.utime(path, (epoch, epoch))
    return folder


def _build(source: Path, kind: str, out: Path, env: dict, log: Path, comp: Component) -> Path:
    cmd = [sys.executable, '-m', 'build', f'--{kind}', '--no-isolation', '--outdir', str(out), str(source)]
    done = run(cmd, log, env=env, beat=(f'package:{comp.name}', f'building the {kind}'))
    if not done.ok:
        raise PackageError(f'{comp.manifest}: python -m build --{kind} failed ({done.tail()}); see {log}')
    suffix = '.tar.gz' if kind == 'sdist' else '.whl'
    [built] = [p for p in out.iterdir() if p.name.endswith(suffix)]
    return built


def normalize_sdist(path: Path, epoch: int) -> None:
    """Re-pack the sdist with sorted members, fixed owners and `epoch` times, and a gzip header without a date."""
    with tarfile.open(path, 'r:gz') as src:
        members = sorted(src.getmembers(), key=operator.attrgetter('name'))
        payload = [(m, src.extractfile(m).read() if m.isfile() else None) for m in members]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w', format=tarfile.PAX_FORMAT) as dst:
        for member, data in payload:
            member.mtime, member.uid, member.gid, member.uname, member.gname = epoch, 0, 0, '', ''
            member.pax_headers = {}
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    with open(path, 'wb') as fh, gzip.GzipFile(filename='', mode='wb', fileobj=fh, mtime=0) as gz:
        gz.write(buffer.getvalue())


def build_distributions(root: Path, comp: Component, epoch: int) -> list[Path]:
    """sdist from the staging copy, wheel from the unpacked sdist; both moved into dist/<name>/."""
    work = work_dir(comp)
    shutil.rmtree(work, ignore_errors=True)
    out, unpacked, log = work / 'out', work / 'unpacked', work / 'build.log'
    out.mkdir(parents=True)
    staged = stage(root, comp, work / 'stage', epoch)
    env = {**os.environ, 'SOURCE_DATE_EPOCH': str(epoch), 'PYTHONHASHSEED': '0',
           # debug info and __FILE__ name the build folder: map it so the extension's bytes do not depend on it
           'CFLAGS': f'{os.environ.get("CFLAGS", "")} -ffile-prefix-map={work}=.'.strip()}
    sdist = _build(staged, 'sdist', out, env, log, comp)
    normalize_sdist(sdist, epoch)
    with tarfile.open(sdist) as archive:
        # the 'data' filter (Python >= 3.11.4) refuses links and paths that leave the folder
        archive.extractall(unpacked, **({'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))
    [tree] = list(unpacked.iterdir())
    wheel = _build(tree, 'wheel', out, env, log, comp)
    target = dist_dir(comp)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    check_names(comp, sdist, wheel)
    moved = [target / built.name for built in (sdist, wheel)]
    for built, dest in zip((sdist, wheel), moved):
        shutil.move(str(built), dest)
    return moved


# ---------------------------------------------------------------- checking

def archive_members(path: Path) -> list[str]:
    if path.suffix == '.whl':
        with zipfile.ZipFile(path) as archive:
            return sorted(archive.namelist())
    with tarfile.open(path) as archive:
        return sorted(m.name for m in archive.getmembers() if not m.isdir())


def _tool(check: str, cmd: list[str], cwd: Path) -> Finding:
    done = run(cmd, cwd=cwd)
    return Finding(check, done.ok, ' '.join(done.output.split())[-400:] or 'no output')


def source_env() -> dict:
    """Environment whose imports see this workspace's sources first, even when another checkout is installed."""
    srcs = [str(c.root / 'src') for c in workspace().components.values()]
    return {**os.environ, 'PYTHONPATH': os.pathsep.join([*srcs, os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)}


def api_findings(root: Path, comp: Component) -> list[Finding]:
    """Docstrings and doctests, checked in a fresh interpreter against the workspace's editable install."""
    proc = subprocess.run([sys.executable, '-m', 'tasks.release.apicheck', comp.import_name], cwd=root,
                          env=source_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ['no output'])[-1]
        return [Finding('public API imports', False, f'{comp.import_name}: {last}')]
    data = json.loads(proc.stdout)
    missing, tests = data['undocumented'], data['doctests']
    return [Finding('docstrings', not missing, f'{len(missing)} public names lack one: {", ".join(missing[:8])}'
                    if missing else 'every public function and class has one'),
            Finding('doctests', not tests['failures'], f'{tests["attempted"]} examples run; ' +
                    (' | '.join(tests['failures'])[:600] if tests['failures'] else 'all pass'))]


def checklist(root: Path, comp: Component, files: list[Path]) -> list[Finding]:
    ws = workspace()
    project = tomllib.loads(comp.manifest.read_text(encoding='utf-8'))['project']
    where = comp.manifest.relative_to(root).as_posix()
    siblings = {c.dist: c.version for c in ws.components.values()}
    readme, changelog = comp.root / 'README.md', comp.root / 'CHANGELOG.md'
    findings = [*check_manifest(project, where, comp.root, siblings),
                *check_readme(readme.read_text(encoding='utf-8') if readme.is_file() else '',
                              readme.relative_to(root).as_posix(), comp.dist, bool(comp.extensions)),
                check_changelog(changelog.read_text(encoding='utf-8') if changelog.is_file() else None,
                                changelog.relative_to(root).as_posix(), comp.version),
                *check_sizes({f.name: f.stat().st_size for f in files}, SIZE_LIMIT)]
    if comp.extensions:
        flags = [*sysconfig.get_config_var('CFLAGS').split(), *os.environ.get('CFLAGS', '').split(),
                 *(a for e in comp.extensions for a in e.extra_compile_args)]
        findings.append(check_baseline_isa(flags, where))
    findings.append(_tool('twine check --strict', [sys.executable, '-m', 'twine', 'check', '--strict',
                                                   *map(str, files)], root))
    wheels = [str(f) for f in files if f.suffix == '.whl']
    findings.append(_tool('check-wheel-contents', [sys.executable, '-m', 'check_wheel_contents', *wheels],
                          comp.root))
    findings.append(_tool('lint (flake8)', [sys.executable, '-m', 'flake8', str(comp.root)], root))
    findings.extend(api_findings(root, comp))
    return findings


def package_component(name: str) -> bool:
    """The action of `package:<name>`: build, check, report; the failed checks on stderr and one line if any fails."""
    ws = workspace()
    comp, root = ws.components[name], ws.root
    epoch = source_date_epoch(root, comp)
    try:
        files = build_distributions(root, comp, epoch)
    except PackageError as err:
        return failed(err)
    findings = checklist(root, comp, files)
    advisory = {c.strip() for c in (settings().get('advisory-checks') or '').split(',') if c.strip()}
    failing = [f for f in findings if not f.ok and f.check not in advisory]
    data = {'component': name, 'dist': comp.dist, 'version': comp.version, 'level': comp.level,
            'source_date_epoch': epoch, 'verdict': 'fail' if failing else 'pass',
            'summary': f'{len(findings) - len(failing)}/{len(findings)} checks hold' +
                       (f'; failing: {", ".join(f.check for f in failing)}' if failing else ''),
            'files': [{'name': f.name, 'path': f.relative_to(root).as_posix(), 'size': f.stat().st_size,
                       'sha256': sha256_file(f), 'contents': archive_members(f)} for f in files],
            'findings': [{**f.as_dict(), 'advisory': f.check in advisory} for f in findings],
            'toolchain': toolchain(comp)}   # the compiler, flags and Cython of the kernels, for the SBOMs
    write_report(report_path(name), 'package.md.j2', data)
    for finding in failing:
        print(f'package:{name}: {finding.check}: {finding.detail}', file=sys.stderr)
    if failing:
        return failed(f'package:{name}: {data["summary"]}; see {report_path(name)}')
    return True


def package_inputs(comp: Component) -> list[Path]:
    ws = workspace()
    files = set(release_files(ws.root, list(comp.paths)))
    changelog = comp.root / 'CHANGELOG.md'
    files.add(changelog)   # written by changelog:<name>: a new component's first one too
    if comp.extensions:
        files.add(Path(kernel_build.__file__))
    return sorted(files | set(extension_inputs(importable(comp))))


def importable(comp: Component) -> list[Component]:
    """The component and everything it imports: their compiled extensions must exist before it is imported."""
    ws = workspace()
    return [comp, *(ws.components[d] for d in sorted(ws.closure(comp.name)))]


def _build_config(root: Path, comp: Component, tools: dict) -> dict:
    """What changes the archives besides their files: the commit time they are stamped with, and the tools."""
    return {'epoch': source_date_epoch(root, comp), 'tools': tools, 'python': sys.version}


def task_package():
    """build each component's sdist and wheel into dist/<name>/ and run the publishing checklist"""
    ws = workspace()
    tools = {tool: installed_version(tool) for tool in BUILD_TOOLS}
    for name, comp in ws.components.items():
        report = report_path(name)
        yield {
            'name': name,
            'doc': f'build and check {comp.dist} {comp.version} -> dist/{name}/, {report.relative_to(ws.root)}',
            'actions': [(package_component, [name])],
            'file_dep': [str(f) for f in package_inputs(comp)],
            'targets': [str(sdist_path(comp)), str(report), str(report.with_suffix('.json'))],
            'uptodate': [lazy_config_changed(functools.partial(_build_config, ws.root, comp, tools))],
            'clean': [clean_targets, (remove_tree, [str(dist_dir(comp))])],
        }
