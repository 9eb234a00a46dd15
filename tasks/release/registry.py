"""The package index publish talks to: the embedded pypiserver (default) or a remote index chosen in setup.cfg.

The local index is a real server: `pypi-server` on 127.0.0.1 and a free port, serving `.registry/packages`,
uploads authenticated against an htpasswd file whose password is generated per run and never printed. It is
stopped when the `with` block ends, at interpreter exit (atexit), when its parent dies (PR_SET_PDEATHSIG), and a
run killed before any of that leaves a pidfile that the next start uses to clean the orphan up.

A remote index is `[embeddenator] index-upload-url` / `index-simple-url`; its token comes from the environment
(`index-token-env`, default EMBEDDENATOR_INDEX_TOKEN), the keyring, or the URLs' `user:password@`. It is only
ever passed to twine and pip through their environments (a netrc file for pip), never on a command line, and
every message, log line and report field goes through `tasks.redact`. Reading needs it only when the index is
private; uploading always does.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from tasks.core import processes
from tasks.core.config import Settings
from tasks.release.index_api import (TOKEN_ENV, Registry, RegistryError, served_files,  # noqa: F401
                                     split_userinfo, wait_until_served)
from tasks.release.redact import remember, scrub, strip_ansi

LOCAL_USER = 'embeddenator'
_PR_SET_PDEATHSIG = 1


def sha256_file(path: Path | str) -> str:
    with open(path, 'rb') as fh:
        return hashlib.file_digest(fh, 'sha256').hexdigest()


# ---------------------------------------------------------------- configuration

def registry_dir(cfg: Settings) -> Path:
    return cfg.path(cfg.get('registry-dir', '.registry'))


def remote_registry(cfg: Settings, environ: Mapping[str, str] = os.environ) -> Registry | None:
    """The remote index configured in setup.cfg, or None for the embedded local one.

    Its credentials are optional here: reading a public index needs none, a private one the same login as the
    upload. They come from the token variable, else the keyring, else the `user:password@` of the URLs (which are
    then used without it). Uploading without a token fails in `check_upload_credentials`, before any gate runs.
    """
    name = cfg.get('index', 'local')
    if name == 'local':
        return None
    upload, simple = cfg.get('index-upload-url'), cfg.get('index-simple-url')
    if not upload or not simple:
        raise RegistryError(f'setup.cfg: [embeddenator] index = {name} needs index-upload-url and index-simple-url '
                            f'(e.g. https://test.pypi.org/legacy/ and https://test.pypi.org/simple/)')
    upload, upload_user, upload_password = split_userinfo(upload)
    simple, simple_user, simple_password = split_userinfo(simple)
    user = cfg.get('index-username') or upload_user or simple_user or '__token__'
    env_name = cfg.get('index-token-env', TOKEN_ENV)
    token = environ.get(env_name) or _keyring_token(upload, user) or upload_password or simple_password
    remember(token)
    return Registry(name=name, upload_url=upload, simple_url=simple.rstrip('/') + '/', username=user,
                    password=token or '', token_env=env_name)


def _keyring_token(url: str, user: str) -> str | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(url, user)
    except Exception:  # a keyring without a usable backend is the same as no keyring
        return None


@contextlib.contextmanager
def open_registry(cfg: Settings) -> Iterator[Registry]:
    """The configured index for the duration of the block: the remote one, or a local server started for it."""
    remote = remote_registry(cfg)
    if remote is not None:
        yield remote
        return
    with LocalIndex(registry_dir(cfg)) as registry:
        yield registry


# ---------------------------------------------------------------- the embedded server

class LocalIndex:
    """pypiserver on 127.0.0.1 for the duration of a `with` block (see the module docstring).

    Several may run at once on one folder (`doit -n 2 publish`): each has its own port, htpasswd and pidfile
    (`server-<pid>.pid`, holding the pid of the process that started it), and only a server whose starter is
    dead counts as an orphan.
    """

    def __init__(self, folder: Path | str, timeout: float = 30.0, private_reads: bool = False):
        self.folder = Path(folder)
        self.private_reads = private_reads   # like a company index: listing and downloads need the login too
        self.packages = self.folder / 'packages'
        self.log = self.folder / 'server.log'
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.files: list[Path] = []

    def __enter__(self) -> Registry:
        self.packages.mkdir(parents=True, exist_ok=True)
        kill_orphans(self.folder)
        password = secrets.token_urlsafe(24)
        port = free_port()
        htpasswd = self.folder / f'htpasswd-{port}'
        _write_htpasswd(htpasswd, LOCAL_USER, password)
        protected = 'update,download,list' if self.private_reads else 'update'
        cmd = [sys.executable, '-m', 'pypiserver', 'run', '-p', str(port), '-i', '127.0.0.1', '-a', protected,
               '-P', str(htpasswd), '--disable-fallback', '--backend', 'simple-dir', '--hash-algo', 'sha256',
               str(self.packages)]
        with open(self.log, 'ab') as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
        pidfile = self.folder / f'server-{self.proc.pid}.pid'
        pidfile.write_text(f'{os.getpid()} {htpasswd.name}', encoding='utf-8')
        self.files = [pidfile, htpasswd]
        atexit.register(self.stop)
        url = f'http://127.0.0.1:{port}'
        try:
            _wait_healthy(url + '/health', self.proc, self.timeout, self.log)
        except BaseException:
            self.stop()
            raise
        return Registry(name='local', upload_url=url + '/', simple_url=url + '/simple/', username=LOCAL_USER,
                        password=password, local=True)

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for path in self.files:
            path.unlink(missing_ok=True)
        self.files = []


def _write_htpasswd(path: Path, user: str, password: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)   # passlib imports the stdlib `crypt` module
        from passlib.apache import HtpasswdFile
    ht = HtpasswdFile(str(path), new=True, default_scheme='bcrypt' if _has_bcrypt() else 'sha256_crypt')
    ht.set_password(user, password)
    ht.save()
    path.chmod(0o600)


def _has_bcrypt() -> bool:
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        return False
    return True


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM the server when the process that started it dies."""
    if sys.platform.startswith('linux'):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def kill_orphans(folder: Path) -> int:
    """Stop the servers that killed runs left behind in `folder`; returns how many were stopped."""
    return sum(kill_orphan(pidfile) for pidfile in sorted(folder.glob('server-*.pid')))


def kill_orphan(pidfile: Path) -> bool:
    """Stop the server `server-<pid>.pid` names (it holds `<starter pid> <htpasswd file>`) if its starter is dead.

    A pid reused by a process other than pypiserver is left alone.
    """
    try:
        server = int(pidfile.stem.split('-', 1)[1])
        starter, htpasswd = pidfile.read_text(encoding='utf-8').split()
        starter = int(starter)
    except (FileNotFoundError, ValueError, IndexError):
        return False
    if _running(starter):
        return False   # a live run (this one, or another `doit -n` worker) owns it
    pidfile.unlink(missing_ok=True)
    (pidfile.parent / Path(htpasswd).name).unlink(missing_ok=True)
    if b'pypiserver' not in _cmdline(server):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(server, signal.SIGTERM)
    return True


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ')
    except OSError:
        return b''


def _running(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != 'Z'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RegistryError(f'the local index exited with status {proc.returncode} on start; see {log}')
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.2)
    raise RegistryError(f'the local index did not answer {url} within {timeout:.0f} s; see {log}')


def upload(registry: Registry, files: Iterable[Path], log: Path) -> None:
    """twine upload; the credentials go through twine's environment only, and the log is redacted."""
    if not registry.password:
        raise RegistryError(f'index {registry.name}: no token to upload with; export {registry.token_env}=<token>')
    files = [str(f) for f in files]
    env = {**os.environ, 'TWINE_USERNAME': registry.username, 'TWINE_PASSWORD': registry.password,
           'TWINE_NON_INTERACTIVE': '1', 'NO_COLOR': '1', 'TERM': 'dumb'}
    cmd = [sys.executable, '-m', 'twine', 'upload', '--non-interactive', '--disable-progress-bar',
           '--repository-url', registry.upload_url, *files]
    done = processes.run(cmd, log, redact=scrub, beat=('publish', f'uploading {len(files)} files with twine'), env=env)
    if not done.ok:
        raise RegistryError(upload_failure(registry, done.output, log))


def upload_failure(registry: Registry, output: str, log: Path) -> str:
    """One line from twine's failed output: the status and what to check, not its last wrapped line."""
    text = ' '.join(strip_ansi(output).split())
    match = re.search(r'HTTPError: (\d{3})\b[^:]*?(?: from (\S+))?(?: |$)(.*)', text)
    if match and match[1] in ('401', '403'):
        return f'{registry.refused(int(match[1]), registry.upload_url)}; see {log}'
    if match:
        detail = match[3].strip()[:300]
        return f'HTTP {match[1]} from {registry.upload_url}: twine upload refused{": " + detail if detail else ""}; ' \
               f'see {log}'
    error = next((line.strip() for line in strip_ansi(output).splitlines() if 'ERROR' in line), '')
    return f'{registry.upload_url}: twine upload failed ({" ".join(error.split())[:300] or "no output"}); see {log}'
