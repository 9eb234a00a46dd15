"""The publishing checklist (pure checks) and `package:<name>` on a toy workspace: reproducible archives, every
file listed, failing checks named."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from tasks.release import checklist
from tasks.release.package import normalize_sdist
from test_publish_support import IDENTITY_ENV

ROOT = Path(__file__).resolve().parents[1]
GOOD = {
    'name': 'embeddenator-alpha', 'version': '0.3.1', 'description': 'toy', 'readme': 'README.md',
    'license': 'MIT OR Apache-2.0', 'license-files': ['LICENSE-MIT'], 'authors': [{'name': 'A'}],
    'keywords': list(checklist.KEYWORDS), 'classifiers': ['Programming Language :: Python :: 3'],
    'urls': {'Homepage': 'https://example.invalid'}, 'requires-python': '>=3.11',
    'dependencies': ['embeddenator-beta>=0.3.0,<0.4', 'numpy>=1.26'],
}
README = textwrap.dedent('''\
    # embeddenator-alpha

    ## Overview

    Toy.

    ## Install

    pip install embeddenator-alpha

    ## Quick start

    ## API docs

    ## Performance

    ## License
    ''')


def _failed(findings):
    return sorted(f.check for f in findings if not f.ok)


def test_a_complete_manifest_passes(tmp_path):
    (tmp_path / 'LICENSE-MIT').write_text('MIT')
    assert _failed(checklist.check_manifest(GOOD, 'm.toml', tmp_path, {'embeddenator-beta': '0.3.2'})) == []


def test_manifest_problems_are_named(tmp_path):
    bad = {**GOOD, 'license': 'MIT', 'keywords': ['vsa'], 'license-files': ['LICENSE-MISSING'],
           'dependencies': ['embeddenator-beta @ file:///src/beta', 'embeddenator-gamma>=0.1,<0.2']}
    del bad['urls']
    findings = checklist.check_manifest(bad, 'm.toml', tmp_path,
                                        {'embeddenator-beta': '0.3.0', 'embeddenator-gamma': '0.2.0'})
    assert _failed(findings) == ['keywords', 'license expression', 'license files', 'manifest urls',
                                 'range for embeddenator-beta', 'range for embeddenator-gamma']
    gamma = next(f for f in findings if f.check == 'range for embeddenator-gamma')
    assert 'admits 0.2.0' in gamma.detail and '<0.3' in gamma.detail


def test_readme_sections_and_security_notes_for_compiled_code():
    assert _failed(checklist.check_readme(README, 'README.md', 'embeddenator-alpha', compiled=False)) == []
    assert _failed(checklist.check_readme(README, 'README.md', 'embeddenator-alpha', compiled=True)) == [
        'README security notes']
    assert 'README pip command' in _failed(checklist.check_readme(README, 'R', 'embeddenator-other', False))


def test_changelog_needs_this_versions_section():
    text = '# Changelog\n\n## [0.3.1] - 2026-01-01\n\n- x\n\n## [0.3.0]\n'
    assert checklist.check_changelog(text, 'C.md', '0.3.1').ok
    assert not checklist.check_changelog(text, 'C.md', '0.3.10').ok
    assert 'doit changelog' in checklist.check_changelog(None, 'C.md', '0.3.1').detail


def test_extensions_must_be_built_for_the_baseline_isa():
    assert checklist.check_baseline_isa(['-O3', '-g', '-fwrapv'], 'm').ok
    bad = checklist.check_baseline_isa(['-O3', '-march=native', '-mavx2'], 'm')
    assert not bad.ok and '-march=native' in bad.detail and '-mavx2' in bad.detail
    assert checklist.check_baseline_isa(['-mno-avx'], 'm').ok


def _tarball(path: Path, mtime: int, order):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uname = 3, mtime, f'user{mtime}'
            tar.addfile(info, io.BytesIO(b'abc'))
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=mtime))


def test_normalized_sdists_do_not_depend_on_times_owners_or_order(tmp_path):
    a, b = tmp_path / 'a.tar.gz', tmp_path / 'b.tar.gz'
    _tarball(a, 1000, ['p/x', 'p/y'])
    _tarball(b, 2000, ['p/y', 'p/x'])
    assert a.read_bytes() != b.read_bytes()
    for path in (a, b):
        normalize_sdist(path, 1234)
    assert a.read_bytes() == b.read_bytes()
    with tarfile.open(a) as tar:
        assert [(m.name, m.mtime) for m in tar.getmembers()] == [('p/x', 1234), ('p/y', 1234)]


TOY_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=77", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "embeddenator-alpha"
version = "0.3.1"
description = "Toy component."
readme = "README.md"
requires-python = ">=3.11"
license = "MIT OR Apache-2.0"
license-files = ["LICENSE-MIT"]
authors = [{ name = "A" }]
keywords = ["vsa", "holographic", "sparse", "ternary", "embeddings"]
classifiers = ["Programming Language :: Python :: 3"]
dependencies = []

[project.urls]
Homepage = "https://example.invalid"

[tool.setuptools.packages.find]
where = ["src"]
'''
TOY_MODULE = '''\
"""Toy."""


def double(x):
    """Twice `x`.

    >>> double(21)
    42
    """
    return 2 * x


def undocumented(x):
    return x
'''


@pytest.fixture(scope='module')
def toy_workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('ws')
    comp = root / 'components' / 'alpha'
    (comp / 'src' / 'embeddenator' / 'alpha').mkdir(parents=True)
    (comp / 'src' / 'embeddenator' / 'alpha' / '__init__.py').write_text(TOY_MODULE)
    (comp / 'pyproject.toml').write_text(TOY_PYPROJECT)
    (comp / 'README.md').write_text(README)
    (comp / 'LICENSE-MIT').write_text('MIT License\n')
    (comp / 'CHANGELOG.md').write_text('# Changelog\n\n## [0.3.1] - 2026-01-01\n\n- first\n')
    broken = root / 'components' / 'beta'
    (broken / 'src' / 'embeddenator' / 'beta').mkdir(parents=True)
    (broken / 'src' / 'embeddenator' / 'beta' / '__init__.py').write_text('raise ImportError("broken on purpose")\n')
    (broken / 'pyproject.toml').write_text(TOY_PYPROJECT.replace('alpha', 'beta'))
    (root / 'dodo.py').write_text('from tasks import DOIT_CONFIG  # noqa: F401\n'
                                  'from tasks.release.apidocs import task_apidocs  # noqa: F401\n'
                                  'from tasks.release.package import task_package  # noqa: F401\n')
    (root / 'setup.cfg').write_text('[flake8]\nmax-line-length = 120\n')
    (root / '.gitignore').write_text('build/\ndist/\nreports/\n.doit.json*\n*.egg-info/\n__pycache__/\n')
    env = {**os.environ, **IDENTITY_ENV}
    for cmd in (['init', '-q'], ['add', '.'], ['commit', '-q', '-m', 'feat: toy']):
        subprocess.run(['git', *cmd], cwd=root, env=env, check=True)
    return root


def _package(root: Path):
    subprocess.run([sys.executable, '-m', 'doit', 'forget', 'package:alpha'], cwd=root, capture_output=True)
    proc = subprocess.run([sys.executable, '-m', 'doit', 'package:alpha'], cwd=root, capture_output=True,
                          text=True)
    report = json.loads((root / 'reports' / 'package' / 'alpha.json').read_text())
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / 'dist' / 'alpha').iterdir()}
    return proc, report, digests


def test_package_builds_reproducibly_lists_files_and_names_failing_checks(toy_workspace):
    proc, report, first = _package(toy_workspace)
    assert proc.returncode != 0, 'the undocumented function must fail the checklist'
    assert report['verdict'] == 'fail' and 'docstrings' in report['summary']
    assert 'embeddenator.alpha.undocumented' in proc.stderr
    failed = {f['check'] for f in report['findings'] if not f['ok']}
    assert failed == {'docstrings'}, report['findings']
    doctests = next(f for f in report['findings'] if f['check'] == 'doctests')
    assert doctests['detail'].startswith('1 examples run')
    assert sorted(first) == ['embeddenator_alpha-0.3.1-py3-none-any.whl', 'embeddenator_alpha-0.3.1.tar.gz']
    files = {f['name']: f for f in report['files']}
    assert 'embeddenator/alpha/__init__.py' in files['embeddenator_alpha-0.3.1-py3-none-any.whl']['contents']
    assert 'embeddenator_alpha-0.3.1/pyproject.toml' in files['embeddenator_alpha-0.3.1.tar.gz']['contents']
    assert {n: f['sha256'] for n, f in files.items()} == first
    _, _, second = _package(toy_workspace)
    assert second == first, 'two builds of one commit must be byte-identical'
    md = (toy_workspace / 'reports' / 'package' / 'alpha.md').read_text()
    assert 'embeddenator/alpha/__init__.py' in md and '**no**' in md


def test_api_docs_build_and_fail_on_warnings(toy_workspace):
    run = [sys.executable, '-m', 'doit', 'apidocs:alpha']
    proc = subprocess.run(run, cwd=toy_workspace, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = toy_workspace / 'docs' / 'api' / 'alpha' / 'embeddenator' / 'alpha.html'
    assert 'Twice' in page.read_text()
    proc = subprocess.run(run[:-1] + ['apidocs:beta'], cwd=toy_workspace, capture_output=True, text=True)
    assert proc.returncode != 0 and 'broken on purpose' in proc.stderr
    assert 'TaskFailed' in proc.stdout and 'apidocs:beta: pdoc reported' in proc.stdout   # doit's one line
