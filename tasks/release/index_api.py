"""Talking HTTP to a package index: what it serves (the simple API), whether it is up, whether it takes our login.

Reads send the index's credentials when it has any (a private index needs them to list or download; a public one
ignores them), so the same code serves both. The project page is asked for as PEP 691 JSON and read as PEP 503
HTML when the index only speaks that (pypiserver). Every message goes through the redaction step: an index URL
written with `user:password@` never reaches the console or a report.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from tasks.core.errors import PluginError
from tasks.release.redact import remember, scrub

TOKEN_ENV = 'EMBEDDENATOR_INDEX_TOKEN'
JSON_TYPE = 'application/vnd.pypi.simple.v1+json'
#: PEP 691 content negotiation: JSON preferred, HTML accepted (what pip sends, minus the legacy HTML type).
ACCEPT = f'{JSON_TYPE}, text/html;q=0.1'


class RegistryError(PluginError):
    """The index cannot be started, reached, uploaded to, or does not serve what was uploaded."""


@dataclass(frozen=True)
class Registry:
    name: str                   # 'local' or the configured index name, for reports
    upload_url: str             # twine --repository-url
    simple_url: str             # PEP 503 simple API root, for pip --index-url and polling
    username: str = ''
    password: str = field(default='', repr=False)   # never printed: repr hides it, output goes through scrub
    local: bool = False
    token_env: str = TOKEN_ENV  # where the password comes from, for the messages that ask for it

    def __post_init__(self):
        remember(self.password)

    def redact(self, text: str) -> str:
        """`text` with the password, URL userinfo and colour codes removed, for everything written or printed."""
        return scrub(text)

    @property
    def auth(self) -> tuple[str, str] | None:
        """(user, password) for reads and uploads, or None: anonymous reads (a public index)."""
        return (self.username, self.password) if self.password else None

    def refused(self, code: int, url: str) -> str:
        return (f'HTTP {code} from {url}: the index refused the credentials for user {self.username}; check '
                f'index-username / {self.token_env}')


def split_userinfo(url: str) -> tuple[str, str, str]:
    """(url without `user:password@`, user, password): urllib cannot open such a URL, and it must not be printed."""
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url, '', ''
    userinfo, _, host = parts.netloc.rpartition('@')
    user, _, password = userinfo.partition(':')
    user, password = unquote(user), unquote(password)
    remember(password)
    return urlunsplit(parts._replace(netloc=host)), user, password


def anonymous(simple_url: str) -> Registry:
    return Registry(name=simple_url, upload_url='', simple_url=simple_url)


def _as_registry(index: Registry | str) -> Registry:
    return index if isinstance(index, Registry) else anonymous(index)


def _headers(registry: Registry, extra: Mapping[str, str] = {}) -> dict:
    headers = {'Cache-Control': 'no-cache', 'Pragma': 'no-cache', **extra}
    if registry.auth:
        token = base64.b64encode(':'.join(registry.auth).encode('utf-8')).decode('ascii')
        headers['Authorization'] = f'Basic {token}'
    return headers


def read_error(registry: Registry, url: str, err: Exception) -> RegistryError:
    """One clear line for a failed read: refused credentials, missing credentials, other status, unreachable."""
    if isinstance(err, urllib.error.HTTPError):
        if err.code in (401, 403) and registry.auth:
            return RegistryError(registry.refused(err.code, url))
        if err.code in (401, 403):
            return RegistryError(f'HTTP {err.code} from {url}: the index needs credentials to read; export '
                                 f'{registry.token_env}=<token> (user from index-username) or store it in the keyring')
        return RegistryError(f'HTTP {err.code} from {url}: check index-simple-url in setup.cfg')
    reason = getattr(err, 'reason', err)
    return RegistryError(scrub(f'{url}: the index is unreachable ({reason}); start it or fix index-simple-url in '
                               f'setup.cfg'))


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


def parse_project_page(body: str, content_type: str) -> dict[str, str]:
    """File name -> SHA-256 from a project page, PEP 691 JSON or PEP 503 HTML (by its content type)."""
    if content_type.split(';')[0].strip() == JSON_TYPE:
        files = json.loads(body).get('files', [])
        return {f['filename']: f['hashes']['sha256'] for f in files if 'sha256' in f.get('hashes', {})}
    parser = _Links()
    parser.feed(body)
    return parser.files


def served_files(index: Registry | str, dist: str, timeout: float = 10.0) -> dict[str, str]:
    """File name -> SHA-256 the index serves for `dist` now (bypassing caches); {} if it has no such project."""
    registry = _as_registry(index)
    url = f'{registry.simple_url.rstrip("/")}/{canonicalize_name(dist)}/'
    request = urllib.request.Request(url, headers=_headers(registry, {'Accept': ACCEPT}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = resp.read().decode('utf-8', errors='replace')
            content_type = resp.headers.get('Content-Type', 'text/html')
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return {}
        raise read_error(registry, url, err) from None
    except (urllib.error.URLError, OSError) as err:
        raise read_error(registry, url, err) from None
    return parse_project_page(body, content_type)


def wait_until_served(index: Registry | str, dist: str, expected: Mapping[str, str], timeout: float = 120.0,
                      interval: float = 0.5) -> float:
    """Poll until the index serves every expected file with its SHA-256; return when (epoch s). Times out clearly.

    The timeout names each file that is absent or served with another digest (and that digest): an index that
    serves a different file under the uploaded name is not waited on forever nor taken for a success.
    """
    registry = _as_registry(index)
    deadline = time.monotonic() + timeout
    served: dict[str, str] = {}
    last_error = ''
    while True:
        try:
            served = served_files(registry, dist)
            last_error = ''
        except RegistryError as err:
            last_error = str(err)
        wrong = {n: d for n, d in expected.items() if served.get(n) != d}
        if not wrong and not last_error:
            return time.time()
        if time.monotonic() >= deadline:
            raise RegistryError(_not_served(registry.simple_url, dist, wrong, served, timeout, last_error))
        time.sleep(interval)


def _not_served(simple_url: str, dist: str, wrong: Mapping[str, str], served: Mapping[str, str], timeout: float,
                last_error: str) -> str:
    details = [f'{name} is served with SHA-256 {served[name]}, uploaded {digest}' if name in served else
               f'{name} is not listed' for name, digest in sorted(wrong.items())]
    cause = f'; last answer: {last_error}' if last_error else ''
    return scrub(f'{simple_url}: {dist} still does not serve the uploaded files after {timeout:.0f} s '
                 f'({"; ".join(details)}){cause}; check the index, then run `doit publish` again')


# ---------------------------------------------------------------- preflight probes

def check_reachable(registry: Registry, timeout: float = 10.0) -> None:
    """The simple API's root answers with our credentials (or without, for a public index); RegistryError if not."""
    url = registry.simple_url
    request = urllib.request.Request(url, headers=_headers(registry, {'Accept': ACCEPT}))
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError as err:
        if err.code == 404:   # an index may not list its projects; the project pages are what publish reads
            return
        raise read_error(registry, url, err) from None
    except (urllib.error.URLError, OSError) as err:
        raise read_error(registry, url, err) from None


def check_upload_credentials(registry: Registry, timeout: float = 10.0) -> None:
    """An authenticated upload that uploads nothing: `:action=file_upload` without a file.

    pypiserver, devpi-server and warehouse (PyPI) check the login before the form, so accepted credentials get
    HTTP 400 (a field is missing) and refused ones 401 or 403: the login is proved before minutes of gates.
    """
    if not registry.password:
        raise RegistryError(f'index {registry.name}: no token to upload with; export {registry.token_env}=<token> or '
                            f'store it with `keyring set {registry.upload_url} {registry.username}`')
    boundary = 'embeddenator-preflight'
    fields = {':action': 'file_upload', 'protocol_version': '1'}
    body = ''.join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items()) + f'--{boundary}--\r\n'
    request = urllib.request.Request(
        registry.upload_url, data=body.encode('utf-8'), method='POST',
        headers=_headers(registry, {'Content-Type': f'multipart/form-data; boundary={boundary}'}))
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return   # 2xx: an index that ignores an empty upload
    except urllib.error.HTTPError as err:
        if err.code == 400:
            return
        if err.code in (401, 403):
            raise RegistryError(registry.refused(err.code, registry.upload_url)) from None
        raise RegistryError(f'HTTP {err.code} from {registry.upload_url}: it does not answer like an upload URL; '
                            f'check index-upload-url in setup.cfg') from None
    except (urllib.error.URLError, OSError) as err:
        raise RegistryError(scrub(f'{registry.upload_url}: the upload URL is unreachable '
                                  f'({getattr(err, "reason", err)}); check index-upload-url in setup.cfg')) from None
