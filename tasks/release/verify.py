"""Prove a published (or built) package installs: a fresh venv, pip from one index only, import and smoke call.

Sibling packages are installed from the index under test alone (`--index-url`, or `--no-index --find-links` for
a dry run): never from the default index, where a look-alike name could shadow them. Their third-party
dependencies (numpy, ...) are installed first, in a separate pip call, from the default index (or
`third-party-index-url`) through pip's cache.

Every pip call is isolated from the user's and the machine's pip configuration (`--isolated`, PIP_CONFIG_FILE set
to the null device, no PIP_* variable passed on): a `find-links` or `extra-index-url` there could otherwise supply
a stale copy of a sibling. A private index's login reaches pip through a netrc file named by the NETRC variable of
pip's own environment, never through its command line, which the logs record.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.core.errors import PluginError
from tasks.release.index_api import Registry, RegistryError, served_files
from tasks.release.redact import scrub
from tasks.core import processes

SMOKE = Path(__file__).with_name('smoke.py')
#: Options of every verification pip call: no configuration, no prompt, no keyring lookup (the login is in NETRC).
ISOLATED = ('--isolated', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off',
            '--keyring-provider', 'disabled')


class VerifyError(PluginError):
    """A fresh environment could not install, import or run a package; the message says which and where to look."""

    def __init__(self, message: str, log: Path | None = None):
        super().__init__(message)
        self.log = log


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


def pip_env(netrc: Path | None = None) -> dict:
    """The environment of a verification pip: no PIP_* setting, no configuration file, only our netrc (or none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_') and k not in ('PYTHONPATH', 'PYTHONHOME')}
    env['PIP_CONFIG_FILE'] = os.devnull
    env['NETRC'] = str(netrc) if netrc else os.devnull
    return env


@contextlib.contextmanager
def netrc_for(registry: Registry | None) -> Iterator[Path | None]:
    """A netrc file (mode 0600, in a private temporary folder) with the index's login; None without one."""
    if registry is None or registry.auth is None:
        yield None
        return
    host = urlsplit(registry.simple_url).hostname
    user, password = (_netrc_token(t) for t in registry.auth)
    with tempfile.TemporaryDirectory(prefix='embeddenator-netrc-') as folder:
        path = Path(folder) / 'netrc'
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as fh:
            fh.write(f'machine {host} login {user} password {password}\n')
        yield path


def _netrc_token(value: str) -> str:
    """A netrc token: quoted (Python's netrc reads "..." with backslash escapes) when it has spaces or quotes."""
    if re.search(r'[\s"\\]', value):
        return '"' + value.replace('\\', '\\\\').replace('"', '\\"') + '"'
    return value


def pip_install(python: Path, args: Sequence[str], log: Path, registry: Registry | None = None,
                report: Path | None = None) -> None:
    """Isolated `pip --python <venv> install ...`, output appended to `log`; VerifyError names the log on failure.
    With `report`, pip writes what it resolved and installed there (`--report`: versions, archive digests)."""
    cmd = [sys.executable, '-m', 'pip', '--python', str(python), 'install', *ISOLATED,
           *(('--report', str(report)) if report else ()), *args]
    with netrc_for(registry) as netrc:
        _run(cmd, log, f'pip install {" ".join(a for a in args if not a.startswith("-"))}', env=pip_env(netrc))


def install_from_index(python: Path, registry: Registry, requirements: Sequence[str], log: Path,
                       report: Path | None = None) -> None:
    """`requirements` from `registry` alone; a failure says whether the index was unreachable or lacks a package."""
    try:
        pip_install(python, ['--no-cache-dir', '--index-url', registry.simple_url, *requirements], log, registry,
                    report)
    except VerifyError as err:
        raise diagnose(registry, requirements, err) from None


def diagnose(registry: Registry, requirements: Sequence[str], err: VerifyError) -> VerifyError:
    """Ask the index again after pip failed: unreachable (or refusing), missing a package, or pip's own reason."""
    missing = []
    for line in requirements:
        req = Requirement(line)
        try:
            served = served_files(registry, req.name)
        except RegistryError as down:
            return VerifyError(f'index unreachable while installing {", ".join(requirements)}: {down}; '
                               f'see {err.log}', err.log)
        versions = {_file_version(name) for name in served}
        if not any(v in req.specifier for v in versions if v):
            missing.append(f'{req} (the index has {", ".join(sorted(v for v in versions if v)) or "no version"})')
    if missing:
        return VerifyError(f'package missing on {registry.simple_url}: {"; ".join(missing)}; see {err.log}',
                           err.log)
    return err


def _file_version(filename: str) -> str:
    """The version field of a wheel or sdist file name (normalised names cannot contain '-')."""
    stem = re.sub(r'(\.tar\.gz|\.zip|\.whl)$', '', filename)
    parts = stem.split('-')
    return parts[1] if len(parts) > 1 else ''


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


def inspect(python: Path) -> dict:
    """`pip inspect` of the venv: every installed distribution's metadata and the interpreter's marker values."""
    cmd = [sys.executable, '-m', 'pip', '--python', str(python), 'inspect', '--isolated', '--disable-pip-version-check']
    done = processes.run(cmd, env=pip_env())
    try:
        return json.loads(done.output[done.output.find('{'):]) if done.ok else {}
    except ValueError:
        return {}


def _run(cmd: Sequence[str], log: Path, what: str, cwd: Path | None = None, env: dict | None = None) -> None:
    if env is None:
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    done = processes.run(cmd, log, redact=scrub, beat=('verify', what), cwd=cwd, env={**env, 'NO_COLOR': '1'})
    if not done.ok:
        errors = [line for line in done.output.splitlines() if line.startswith('ERROR')]
        raise VerifyError(f'{scrub(what)} failed in a fresh environment ({errors[-1] if errors else done.tail()}); '
                          f'see {log}', log)
