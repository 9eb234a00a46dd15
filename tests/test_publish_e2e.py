"""End to end, in a temporary copy of the workspace with its own git repository: a dry run, then `doit publish`
against the embedded index publishes all seven components in level order, a second run uploads nothing, and
`pip install embeddenator-cli` from that index gives a working `embeddenator --help`.

About three minutes of two cores (it builds, uploads and installs the real packages; pip's cache serves numpy):
the dry run and the two publishes share one build, and each run shares one venv across its components.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import git
import pytest

from tasks.release import registry as reg
from tasks.release import verify
from tasks.core.workspace import load_workspace
from test_publish_support import IDENTITY_ENV

ROOT = Path(__file__).resolve().parents[1]
# The copy runs publish alone: the gates' own tasks (tests, audit, bench) are proved by their tests, and here
# they would be reported as not run. Docstring coverage is the components' concern, reported, not blocking.
SETTINGS = {'publish-runs-gates': 'no', 'advisory-checks': 'docstrings'}

pytestmark = pytest.mark.slow


def _copy_workspace(dest: Path) -> Path:
    listed = git.Repo(ROOT).git.ls_files('--cached', '--others', '--exclude-standard').splitlines()
    for rel in listed:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _configure(dest / 'setup.cfg', SETTINGS)
    return dest


def _configure(setup_cfg: Path, values: dict) -> None:
    """Set keys of the [embeddenator] section in place (comments and other sections untouched)."""
    lines = [line for line in setup_cfg.read_text(encoding='utf-8').splitlines()
             if line.split('=')[0].strip() not in values]
    if '[embeddenator]' not in lines:
        lines.append('[embeddenator]')
    at = lines.index('[embeddenator]') + 1
    lines[at:at] = [f'{key} = {value}' for key, value in values.items()]
    setup_cfg.write_text('\n'.join(lines) + '\n', encoding='utf-8')


def _git(root: Path, *args: str) -> None:
    subprocess.run(['git', *args], cwd=root, env={**os.environ, **IDENTITY_ENV}, check=True,
                   stdout=subprocess.DEVNULL)


def _doit(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', reg.TOKEN_ENV)}
    proc = subprocess.run([sys.executable, '-m', 'doit', *args], cwd=root, capture_output=True, text=True,
                          env={**base, **(env or {})})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def _report(path: Path) -> dict:
    return {c['component']: c for c in json.loads(path.read_text())['components']}


def _packages(root: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in (root / '.registry' / 'packages').iterdir()}


@pytest.fixture(scope='module')
def published(tmp_path_factory):
    root = _copy_workspace(tmp_path_factory.mktemp('e2e') / 'ws')
    _git(root, 'init', '-q')
    _git(root, 'add', '.')
    _git(root, 'commit', '-q', '-m', 'feat: the workspace')
    _doit(root, 'changelog')                     # RELEASING.md: changelogs first, committed with the release
    _git(root, 'add', '.')
    _git(root, 'commit', '-q', '--allow-empty', '-m', 'docs: changelogs')
    dry = _doit(root, 'publish', '--dry-run')
    first = _doit(root, 'publish')
    return root, dry, first


def test_dry_run_installs_the_built_files_and_neither_uploads_nor_tags(published):
    root, dry, _ = published
    report = _report(root / 'reports' / 'publishing' / 'dry-run' / 'publish.json')
    assert {c['status'] for c in report.values()} == {'would upload'}
    assert all(c['verified'] and c['uploaded'] is None and c['tag'] is None for c in report.values())
    assert (root / 'reports' / 'publishing' / 'dry-run' / 'logs' / 'cli.log').is_file()


def test_publish_goes_in_level_order_and_tags_each_component(published):
    root, _, _ = published
    ws = load_workspace(root)
    report = _report(root / 'reports' / 'publishing' / 'publish.json')
    assert list(report) == ws.order()
    assert {c['status'] for c in report.values()} == {'published'}
    for name, comp in ws.components.items():
        rec = report[name]
        assert rec['level'] == comp.level
        assert rec['uploaded'] < rec['served'] <= rec['verified']
        for dep in comp.deps:   # a dependent is uploaded only after each dependency was verified
            assert report[dep]['verified'] < rec['uploaded'], (name, dep)
    by_upload = sorted(report.values(), key=lambda r: r['uploaded'])
    assert [r['level'] for r in by_upload] == sorted(r['level'] for r in by_upload)
    tags = {t.name for t in git.Repo(root).tags}
    assert tags == {f'{c.dist}-v{c.version}' for c in ws.components.values()}
    served = _packages(root)
    assert len(served) == 2 * len(ws.components)
    assert {f['name'] for r in report.values() for f in r['files']} == set(served)


def test_a_second_run_uploads_nothing(published):
    root, _, _ = published
    before = _packages(root)
    second = _doit(root, 'publish')
    report = _report(root / 'reports' / 'publishing' / 'publish.json')
    assert {c['status'] for c in report.values()} == {'already published'}
    assert _packages(root) == before
    # the resumed run printed its plan before publishing: everything there already
    assert second.stderr.index('publish plan against the local index') < second.stderr.index('publish:io: ')
    plan = json.loads((root / 'reports' / 'publishing' / 'plan.json').read_text())
    actions = {(p['action'], p['hashes'], p['tagged']) for p in plan['packages']}
    assert actions == {('already published', 'match', True)}


def test_every_file_has_a_bill_of_materials_beside_it_and_in_the_reports(published):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    root, _, _ = published
    ws = load_workspace(root)
    report = _report(root / 'reports' / 'publishing' / 'publish.json')
    for name, comp in ws.components.items():
        for f in report[name]['files']:
            bill = root / 'dist' / name / (f['name'] + '.cdx.json')
            assert (root / 'reports' / 'publishing' / 'sbom' / name / bill.name).read_bytes() == bill.read_bytes()
            assert (root / 'reports' / 'publishing' / 'dry-run' / 'sbom' / name / bill.name).is_file()
            doc = json.loads(bill.read_text())
            assert doc['metadata']['component']['hashes'] == [{'alg': 'SHA-256', 'content': f['sha256']}]
            required = {c['name']: c for c in doc.get('components', []) if c.get('scope') == 'required'}
            assert {ws.components[d].dist for d in ws.closure(name)} <= set(required)
            assert all(c.get('hashes') for c in required.values()), name
    vsa = next(n for n, c in ws.components.items() if c.extensions)
    wheel = next(f['name'] for f in report[vsa]['files'] if f['name'].endswith('.whl'))
    text = (root / 'dist' / vsa / (wheel + '.cdx.json')).read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert 'numpy' in {c['name'] for c in doc['components']}
    names = {c['name'] for c in doc['components']} | {c['bom-ref'] for c in doc['components']}
    assert {'Cython', 'build-compiler'} <= names
    props = {p['name'] for p in doc['metadata']['component']['properties']}
    assert any(p.endswith(':compile-args') for p in props)


def test_pip_install_cli_from_the_index_gives_a_working_command(published, tmp_path):
    root, _, _ = published
    python = verify.create_venv(tmp_path / 'venv')
    log = tmp_path / 'pip.log'
    ws = load_workspace(root)
    wheels = [p for c in ws.components.values() for p in (root / 'dist' / c.name).glob('*.whl')]
    third = verify.third_party([r for w in wheels for r in verify.wheel_requirements(w)],
                               [c.dist for c in ws.components.values()])
    verify.pip_install(python, third, log)       # numpy & co. from the default index
    with reg.LocalIndex(root / '.registry') as registry:
        verify.pip_install(python, ['--no-cache-dir', '--index-url', registry.simple_url, 'embeddenator-cli'], log)
    proc = subprocess.run([str(python.parent / 'embeddenator'), '--help'], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0 and 'usage: embeddenator' in proc.stdout, proc.stderr


@contextlib.contextmanager
def _remote_index(root: Path, folder: Path, packages: list[Path], private_reads: bool, **settings):
    """A pypiserver holding `packages`, configured in the copy's setup.cfg as the remote index `corp`."""
    (folder / 'packages').mkdir(parents=True)
    for path in packages:
        shutil.copy2(path, folder / 'packages' / path.name)
    setup_cfg = root / 'setup.cfg'
    before = setup_cfg.read_text(encoding='utf-8')
    with reg.LocalIndex(folder, private_reads=private_reads) as registry:
        _configure(setup_cfg, {'index': 'corp', 'index-upload-url': registry.upload_url,
                               'index-simple-url': registry.simple_url, **settings})
        try:
            yield registry
        finally:
            setup_cfg.write_text(before, encoding='utf-8')


def test_read_only_runs_need_no_token(published, tmp_path):
    """A dry run and verify_published against a public remote index, with no token anywhere."""
    root, _, _ = published
    packages = sorted((root / '.registry' / 'packages').iterdir())
    with _remote_index(root, tmp_path / 'public', packages, private_reads=False):
        dry = _doit(root, 'publish', '--dry-run')
        proc = subprocess.run([sys.executable, '-m', 'doit', 'verify_published'], cwd=root, capture_output=True,
                              text=True, env={k: v for k, v in os.environ.items() if k != reg.TOKEN_ENV})
    data = json.loads((root / 'reports' / 'publishing' / 'dry-run' / 'publish.json').read_text())
    assert data['verdict'] == 'pass', dry.stderr[-3000:]
    assert {c['status'] for c in data['components']} == {'already published'}
    assert 'publish preflight: corp answers' in dry.stderr and 'no login' in dry.stderr
    junit = root / 'reports' / 'publishing' / 'verify-published.xml'
    assert proc.returncode == 0 and junit.is_file(), proc.stderr[-3000:]
    suites = ET.parse(junit).getroot()
    assert sum(int(s.get('tests', 0)) for s in suites.iter('testsuite')) > 0
    log = (root / 'reports' / 'publishing' / 'verify-published.log').read_text()
    venv = root / 'build' / 'verify-published' / 'venv'
    for comp in load_workspace(root).components.values():
        assert f'{comp.import_name}: ok ({venv}' in log, comp.name   # imported from the venv, not the workspace
    assert 'verify_published:' in proc.stderr


def _outputs(root: Path) -> bytes:
    """Everything publishing wrote that a person or a machine reads later."""
    files = [p for folder in ('reports', 'build') for p in (root / folder).rglob('*') if p.is_file()]
    return b'\n'.join(p.read_bytes() for p in files)


def test_a_private_index_gets_the_login_for_reads_and_never_shows_it(published, tmp_path):
    """Reads need the login: cli is published to it (upload, index check, install check with pip), then a dry
    run reads it with the login written into the URL. The password appears in no output."""
    root, _, _ = published
    packages = [p for p in sorted((root / '.registry' / 'packages').iterdir()) if 'embeddenator_cli' not in p.name]
    git.Repo(root).delete_tag('embeddenator-cli-v' + load_workspace(root).components['cli'].version)
    with _remote_index(root, tmp_path / 'private', packages, private_reads=True,
                       **{'index-username': reg.LOCAL_USER}) as registry:
        password = registry.password
        first = _doit(root, 'publish', env={reg.TOKEN_ENV: password})
        report = _report(root / 'reports' / 'publishing' / 'publish.json')
        host = registry.simple_url.split('://', 1)[1]
        _configure(root / 'setup.cfg', {'index-simple-url': f'http://{reg.LOCAL_USER}:{password}@{host}'})
        dry = _doit(root, 'publish', '--dry-run')
    assert report['cli']['status'] == 'published' and report['cli']['uploaded'], first.stderr[-3000:]
    assert {report[n]['status'] for n in report if n != 'cli'} == {'already published'}
    assert 'upload accepted' in first.stderr
    dry_report = _report(root / 'reports' / 'publishing' / 'dry-run' / 'publish.json')
    assert {c['status'] for c in dry_report.values()} == {'already published'}, dry.stderr[-3000:]
    for text in (first.stdout, first.stderr, dry.stdout, dry.stderr):
        assert password not in text
    assert password.encode() not in _outputs(root)
