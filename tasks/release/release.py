"""One component's release as plain values and steps: skip if published, upload, wait until served, verify, tag.

`publish_release` decides from what the index serves and which tags exist (never from doit's state), so running
it again after a failure or a kill does what is left and uploads nothing twice. The side effects are the fields
of `Steps`, which the tests replace to inject faults.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tasks.core.errors import PluginError
from tasks.release import registry as reg
from tasks.release import tagging, verify
from tasks.release.history import DEFAULT_TAG_PATTERN, tag_name
from tasks.release.registry import Registry


class PublishError(PluginError):
    """A release cannot go on (conflicting content, failed gate, dirty tree); the message says what to do."""


@dataclass(frozen=True)
class Release:
    name: str
    dist: str
    version: str
    level: int
    import_name: str
    files: tuple[Path, ...]                 # sdist and wheel, built by package:<name>
    sha256: dict = field(default_factory=dict)              # file name -> digest
    siblings: dict = field(default_factory=dict)            # dist -> version of everything it depends on
    sibling_wheels: tuple[Path, ...] = ()   # the built wheels of those (their third-party requirements)
    modules: tuple[str, ...] = ()           # compiled extension modules to import
    scripts: tuple[str, ...] = ()           # console scripts to run with --help
    tag_pattern: str = DEFAULT_TAG_PATTERN  # `[embeddenator] tag-pattern`, the one the changelogs read

    @property
    def tag(self) -> str:
        return tag_name(self.tag_pattern, self.name, self.version)

    @property
    def wheel(self) -> Path:
        return next(f for f in self.files if f.suffix == '.whl')


def stamp(when: float | None = None) -> str:
    """UTC time with milliseconds: the report's upload/served/verified times must order components."""
    when = time.time() if when is None else when
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(when)) + f'.{int(when % 1 * 1000):03d}Z'


def manifest_scripts(manifest: Path) -> tuple[str, ...]:
    project = tomllib.loads(manifest.read_text(encoding='utf-8'))['project']
    return tuple(sorted(project.get('scripts', {})))


# ---------------------------------------------------------------- verification in a shared venv

@dataclass(frozen=True)
class Verifier:
    """Installs each release into one venv per run (dependencies first, so each install reuses them)."""
    folder: Path                 # the run's folder: venv/ and the lock live here
    forbidden_root: Path         # the workspace's components: an import from there is a failure
    log_dir: Path
    third_party_index: str = ''  # `[embeddenator] third-party-index-url`; empty: pip's default index

    def python(self) -> Path:
        venv_dir = self.folder / 'venv'
        if not verify.venv_python(venv_dir).exists():
            verify.create_venv(venv_dir)
        return verify.venv_python(venv_dir)

    def __call__(self, rel: Release, registry: Registry | None, find_links: tuple[Path, ...] = ()) -> None:
        """Install `rel` from `registry` (or, for a dry run, from `find_links` only), import it and smoke it."""
        log = self.log_dir / f'{rel.name}.log'
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / 'venv.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)   # `doit -n N` may verify two siblings of one level at once
            python = self.python()
            requirements = [r for w in (rel.wheel, *rel.sibling_wheels) for r in verify.wheel_requirements(w)]
            third = verify.third_party(requirements, [*rel.siblings, rel.dist])
            if third:
                index = ['--index-url', self.third_party_index] if self.third_party_index else []
                verify.pip_install(python, [*index, *third], log, report=self.next_report())
            pin = f'{rel.dist}=={rel.version}'
            if registry is not None:
                verify.install_from_index(python, registry, [pin], log, report=self.next_report())
            else:
                verify.pip_install(python, ['--no-index', *(f'--find-links={p}' for p in find_links), pin], log,
                                   report=self.next_report())
            verify.smoke(python, rel.import_name, rel.modules, {**rel.siblings, rel.dist: rel.version},
                         rel.scripts, log, self.forbidden_root)

    def next_report(self) -> Path:
        """Where the next pip call of this venv writes its installation report (one file per call, in order)."""
        folder = self.folder / 'resolved'
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f'{len(list(folder.glob("*.json"))):03d}.json'

    def resolved(self) -> tuple[dict, list[dict]]:
        """(`pip inspect` of the venv, the installation reports of every pip call into it, oldest first)."""
        reports = []
        for path in sorted((self.folder / 'resolved').glob('*.json')):
            try:
                reports.append(json.loads(path.read_text(encoding='utf-8')))
            except (OSError, ValueError):
                continue   # a pip killed while writing it: the archives it installed have no digest then
        return verify.inspect(self.python()), reports

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------- the steps

@dataclass
class Steps:
    root: Path
    identity: tagging.Identity | None
    verifier: Callable[[Release, Registry], None]
    upload: Callable[[Registry, list[Path], Path], None] = reg.upload
    served: Callable[[Registry, str], dict] = reg.served_files
    wait: Callable[..., float] = reg.wait_until_served
    served_timeout: float = 120.0
    preflight: Callable[[], object] | None = None   # raises PublishError when a release must not start

    def tag_exists(self, rel: Release) -> bool:
        return tagging.tag_exists(self.root, rel.tag)

    def tag(self, rel: Release) -> str:
        message = f'{rel.dist} {rel.version}\n\n' + '\n'.join(f'{n} sha256:{d}' for n, d in sorted(rel.sha256.items()))
        tagging.create_tag(self.root, rel.tag, message, self.identity)
        return rel.tag


def compare_with_index(rel: Release, served: dict) -> tuple[list[str], list[str]]:
    """(files not on the index yet, files on it with other content)."""
    missing = [n for n in rel.sha256 if n not in served]
    conflicts = [n for n, d in rel.sha256.items() if n in served and served[n] != d]
    return missing, conflicts


def publish_release(rel: Release, registry: Registry, steps: Steps, log: Path) -> dict:
    """Upload what the index lacks, wait until it is served, verify, tag; returns the report record."""
    missing, conflicts = compare_with_index(rel, steps.served(registry, rel.dist))
    if conflicts:
        raise PublishError(f'{rel.dist} {rel.version}: {", ".join(conflicts)} already on {registry.name} with other '
                           f'content; a published version is immutable: bump the version (doit bump) and publish')
    tagged = steps.tag_exists(rel)
    record = {'status': 'already published', 'uploaded': None, 'served': None, 'verified': None,
              'tag': rel.tag if tagged else None, 'tagged': None}
    if not missing and tagged:
        return record
    if steps.preflight is not None:
        steps.preflight()   # only a release that still has to upload or tag needs the gates and a clean tree
    if missing:
        steps.upload(registry, [f for f in rel.files if f.name in missing], log)
        record['uploaded'] = stamp()
    record['served'] = stamp(steps.wait(registry, rel.dist, rel.sha256, timeout=steps.served_timeout))
    steps.verifier(rel, registry)
    record['verified'] = stamp()
    if not tagged:
        record['tag'] = steps.tag(rel)
        record['tagged'] = stamp()
    record['status'] = 'published' if len(missing) == len(rel.sha256) else 'resumed'
    return record


def dry_run_release(rel: Release, served: dict, verifier: Verifier, find_links: tuple[Path, ...]) -> dict:
    """Everything but upload and tag: compare with the index, then install from the built files."""
    missing, conflicts = compare_with_index(rel, served)
    if conflicts:
        raise PublishError(f'{rel.dist} {rel.version}: {", ".join(conflicts)} already on the index with other '
                           f'content; bump the version (doit bump) before publishing')
    verifier(rel, None, find_links)
    status = 'would upload' if missing else 'already published'
    return {'status': status, 'uploaded': None, 'served': None, 'verified': stamp(), 'tag': None, 'tagged': None}
