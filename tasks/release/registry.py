"""The package index publish talks to: the embedded pypiserver (default) or a remote index chosen in setup.cfg.

The local index is a real server: `pypi-server` on 127.0.0.1 and a free port, serving `.registry/packages`,
uploads authenticated against an htpasswd file whose password is generated per run and never printed. It is
stopped when the `with` block ends, at interpreter exit (atexit), when its parent dies (PR_SET_PDEATHSIG), and a
run killed before any of that leaves a pidfile that the next start uses to clean the orphan up.

A remote index is `[embeddenator] index-upload-url` / `index-simple-url`; its token comes from the environment
(`index-token-env`, default EMBEDDENATOR_INDEX_TOKEN) or the keyring, and is only ever passed to twine through
its environment, so it cannot appear on a command line, in a log or in a report.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from packaging.utils import canonicalize_name

from tasks.core.config import Settings

LOCAL_USER = 'embeddenator'
TOKEN_ENV = 'EMBEDDENATOR_INDEX_TOKEN'
_PR_SET_PDEATHSIG = 1


class RegistryError(Exception):
    """The index cannot be started, reached, uploaded to, or does not serve what was uploaded."""


@dataclass(frozen=True)
class Registry:
    name: str                   # 'local' or the configured index name, for reports
    upload_url: str             # twine --repository-url
    simple_url: str             # PEP 503 simple API root, for pip --index-url and polling
    username: str = ''
    password: str = field(default='', repr=False)   # never printed: repr hides it, reports use `redact`
    local: bool = False

    def redact(self, text: str) -> str:
        """`text` with the password (if any) replaced, for everything that is written or printed."""
        return text.replace(self.password, '***') if self.password else text


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as fh:
        for block in iter(lambda: fh.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- configuration

def registry_dir(cfg: Settings) -> Path:
    return cfg.path(cfg.get('registry-dir', '.registry'))


def remote_registry(cfg: Settings, environ: Mapping[str, str] = os.environ) -> Registry | None:
    """The remote index configured in setup.cfg, or None for the embedded local one."""
    name = cfg.get('index', 'local')
    if name == 'local':
        return None
    upload, simple = cfg.get('index-upload-url'), cfg.get('index-simple-url')
    if not upload or not simple:
        raise RegistryError(f'setup.cfg: [embeddenator] index = {name} needs index-upload-url and index-simple-url '
                            f'(e.g. https://test.pypi.org/legacy/ and https://test.pypi.org/simple/)')
    user = cfg.get('index-username', '__token__')
    env_name = cfg.get('index-token-env', TOKEN_ENV)
    token = environ.get(env_name) or _keyring_token(upload, user)
    if not token:
        raise RegistryError(f'setup.cfg: [embeddenator] index = {name}: no token; export {env_name}=<token> or store '
                            f'it with `keyring set {upload} {user}`')
    return Registry(name=name, upload_url=upload, simple_url=simple.rstrip('/') + '/', username=user,
                    password=token)


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

    def __init__(self, folder: Path | str, timeout: float = 30.0):
        self.folder = Path(folder)
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
        cmd = [sys.executable, '-m', 'pypiserver', 'run', '-p', str(port), '-i', '127.0.0.1',
               '-a', 'update', '-P', str(htpasswd), '--disable-fallback', '--backend', 'simple-dir',
               '--hash-algo', 'sha256', str(self.packages)]
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


# ---------------------------------------------------------------- the simple API

class _Links(HTMLParser):
    """Collects `<a href=".../file#sha256=...">file</a>` of a PEP 503 project page."""

    def __init__(self):
        super().__init__()
        self.files: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get('href') or ''
        if tag == 'a' and '#' in href:
            url, _, fragment = href.partition('#')
            algo, _, digest = fragment.partition('=')
            if algo == 'sha256':
                self.files[url.rsplit('/', 1)[-1]] = digest


def served_files(simple_url: str, dist: str, timeout: float = 10.0) -> dict[str, str]:
    """File name -> SHA-256 the index serves for `dist` now (bypassing caches); {} if it has no such project."""
    url = f'{simple_url.rstrip("/")}/{canonicalize_name(dist)}/'
    request = urllib.request.Request(url, headers={'Cache-Control': 'no-cache', 'Pragma': 'no-cache',
                                                   'Accept': 'text/html'})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            page = resp.read().decode('utf-8', errors='replace')
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return {}
        raise RegistryError(f'{url}: the index answered HTTP {err.code}; check index-simple-url in setup.cfg') from None
    except (urllib.error.URLError, OSError) as err:
        raise RegistryError(f'{url}: the index is unreachable ({getattr(err, "reason", err)}); start it or fix '
                            f'index-simple-url in setup.cfg') from None
    parser = _Links()
    parser.feed(page)
    return parser.files


def wait_until_served(simple_url: str, dist: str, expected: Mapping[str, str], timeout: float = 120.0,
                      interval: float = 0.5) -> float:
    """Poll until the index serves every expected file with its SHA-256; return when (epoch s). Times out clearly."""
    deadline = time.monotonic() + timeout
    missing: list[str] = list(expected)
    while True:
        with contextlib.suppress(RegistryError):
            served = served_files(simple_url, dist)
            missing = [name for name, digest in expected.items() if served.get(name) != digest]
            if not missing:
                return time.time()
        if time.monotonic() >= deadline:
            raise RegistryError(f'{simple_url}: {dist} still does not serve {", ".join(missing)} with the uploaded '
                                f'SHA-256 after {timeout:.0f} s; check the index, then run `doit publish` again')
        time.sleep(interval)


def upload(registry: Registry, files: Iterable[Path], log: Path) -> None:
    """twine upload; the credentials go through twine's environment only, and the log is redacted."""
    files = [str(f) for f in files]
    env = {**os.environ, 'TWINE_USERNAME': registry.username, 'TWINE_PASSWORD': registry.password,
           'TWINE_NON_INTERACTIVE': '1'}
    cmd = [sys.executable, '-m', 'twine', 'upload', '--non-interactive', '--disable-progress-bar',
           '--repository-url', registry.upload_url, *files]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, 'a', encoding='utf-8') as fh:
        fh.write(registry.redact(proc.stdout))
    if proc.returncode != 0:
        last = registry.redact(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else 'no output')
        raise RegistryError(f'{registry.upload_url}: twine upload refused ({last}); see {log}')
