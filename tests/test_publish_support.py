"""Shared helpers for the registry and publish tests: tiny real distributions and a git repository to tag.

(A module of helpers, not tests: pytest collects nothing from it.)
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

IDENTITY_ENV = {'GIT_AUTHOR_NAME': 'Test', 'GIT_AUTHOR_EMAIL': 'test@example.invalid',
                'GIT_COMMITTER_NAME': 'Test', 'GIT_COMMITTER_EMAIL': 'test@example.invalid'}


def build_toy_dists(folder: Path, name: str = 'embeddenator-toy', version: str = '0.1.0',
                    body: str = 'VALUE = 1\n') -> list[Path]:
    """A real sdist and wheel of a one-module project (seconds, no network: --no-isolation)."""
    src = folder / 'src'
    module = name.replace('-', '_')
    (src / module).mkdir(parents=True)
    (src / module / '__init__.py').write_text(body, encoding='utf-8')
    (folder / 'pyproject.toml').write_text(
        f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "toy"\n', encoding='utf-8')
    out = folder / 'dist'
    subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(out), str(folder)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return sorted(out.iterdir())


def git_repo(folder: Path) -> Path:
    """A repository with one commit, made without relying on any configured identity."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **IDENTITY_ENV}
    (folder / 'README.md').write_text('toy\n', encoding='utf-8')
    for cmd in (['init', '-q'], ['add', 'README.md'], ['commit', '-q', '-m', 'init']):
        subprocess.run(['git', *cmd], cwd=folder, env=env, check=True)
    return folder


def toy_release(files: list[Path]):
    """The Release of the toy distributions (a component named `toy`, level 0, no siblings)."""
    from tasks.release.registry import sha256_file
    from tasks.release.release import Release
    return Release(name='toy', dist='embeddenator-toy', version='0.1.0', level=0, import_name='embeddenator_toy',
                   files=tuple(files), sha256={f.name: sha256_file(f) for f in files})
