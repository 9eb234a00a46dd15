"""Prove a published (or built) package installs: a fresh venv, pip from one index only, import and smoke call.

Sibling packages are installed from the index under test alone (`--index-url`, or `--no-index --find-links` for
a dry run): never from the default index, where a look-alike name could shadow them. Their third-party
dependencies (numpy, ...) are installed first, in a separate pip call, from the default index through pip's cache.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SMOKE = Path(__file__).with_name('smoke.py')


class VerifyError(Exception):
    """A fresh environment could not install, import or run a package; the message says which and where to look."""


def create_venv(folder: Path) -> Path:
    """A new venv without pip (the outer pip installs into it with --python: seconds instead of ensurepip)."""
    venv.EnvBuilder(clear=True, with_pip=False, symlinks=os.name != 'nt').create(folder)
    return venv_python(folder)


def venv_python(folder: Path) -> Path:
    return folder / ('Scripts/python.exe' if os.name == 'nt' else 'bin/python')


def wheel_requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith('.dist-info/METADATA'))
        meta = Parser().parsestr(archive.read(name).decode('utf-8'))
    return meta.get_all('Requires-Dist') or []


def third_party(requirements: Iterable[str], siblings: Iterable[str]) -> list[str]:
    """The requirements that are not workspace siblings (those come from the index under test)."""
    ours = {canonicalize_name(s) for s in siblings}
    return sorted({r for r in requirements if canonicalize_name(Requirement(r).name) not in ours})


def pip_install(python: Path, args: Sequence[str], log: Path) -> None:
    """`pip --python <venv> install ...` with output appended to `log`; VerifyError names the log on failure."""
    cmd = [sys.executable, '-m', 'pip', '--python', str(python), 'install', '--disable-pip-version-check',
           '--no-input', '--progress-bar', 'off', *args]
    _run(cmd, log, f'pip install {" ".join(a for a in args if not a.startswith("-"))}')


def smoke(python: Path, import_name: str, modules: Iterable[str], versions: Mapping[str, str],
          scripts: Iterable[str], log: Path, forbidden_root: Path | None = None) -> None:
    """Import the package and its extension modules, check installed versions, run each script with --help."""
    spec = {'package': import_name, 'modules': list(modules), 'versions': dict(versions),
            'forbidden_root': str(forbidden_root) if forbidden_root else ''}
    # -I: isolated, so neither the working directory nor PYTHONPATH can put workspace sources on sys.path
    _run([str(python), '-I', str(SMOKE), json.dumps(spec)], log, f'smoke test of {import_name}', cwd=python.parent)
    bindir = python.parent
    for script in scripts:
        _run([str(bindir / script), '--help'], log, f'{script} --help', cwd=python.parent)


def _run(cmd: Sequence[str], log: Path, what: str, cwd: Path | None = None) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env)
    with open(log, 'a', encoding='utf-8') as fh:
        fh.write(f'$ {" ".join(cmd)}\n{proc.stdout}\n')
    if proc.returncode != 0:
        tail = proc.stdout.strip().splitlines()[-1:] or ['no output']
        raise VerifyError(f'{what} failed in a fresh environment ({tail[0]}); see {log}')
