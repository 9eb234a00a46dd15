"""Publishing to a devpi-server started on 127.0.0.1 by the test: the preflight probes, upload, digest wait and
the install check against the index most companies run, with its own answers (401 for a refused login).

devpi-server is installed into a venv of its own, not into the workspace's: it caps setuptools (<= 81), which
would change the tool that builds the release archives. Without network access to the package index the test
is skipped, saying so.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from tasks.release import registry as reg
from tasks.release import tagging
from tasks.release.index_api import check_reachable, check_upload_credentials
from tasks.release.release import Steps, Verifier, publish_release
from test_publish_support import build_toy_dists, git_repo, toy_release

pytestmark = pytest.mark.slow

PASSWORD = 'devpi-alice-password-never-shown-42'
SPEC = 'devpi-server>=6,<7'


def _install_devpi(folder: Path) -> Path:
    subprocess.run([sys.executable, '-m', 'venv', str(folder)], check=True)
    proc = subprocess.run([str(folder / 'bin' / 'python'), '-m', 'pip', 'install', '-q', SPEC],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f'{SPEC} could not be installed from the package index here: '
                    f'{(proc.stderr.strip().splitlines() or ["no output"])[-1]}')
    return folder / 'bin'


def _call(method: str, url: str, body: dict, auth: tuple[str, str] | None = None) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json'})
    if auth:
        request.add_header('Authorization', 'Basic ' + base64.b64encode(':'.join(auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=30):
        pass


@pytest.fixture(scope='module')
def devpi(tmp_path_factory):
    """devpi-server on a free loopback port, with user alice and her index alice/dev; stopped afterwards."""
    base = tmp_path_factory.mktemp('devpi')
    bindir = _install_devpi(base / 'venv')
    subprocess.run([str(bindir / 'devpi-init'), '--serverdir', str(base / 'data'), '--root-passwd', 'root-pw'],
                   check=True, capture_output=True)
    port = reg.free_port()
    url = f'http://127.0.0.1:{port}'
    with open(base / 'server.log', 'wb') as log:
        server = subprocess.Popen([str(bindir / 'devpi-server'), '--serverdir', str(base / 'data'), '--host',
                                   '127.0.0.1', '--port', str(port), '--offline-mode'],
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f'{url}/+api', timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f'devpi-server did not start; see {base / "server.log"}')
                time.sleep(0.5)
        _call('PUT', f'{url}/alice', {'password': PASSWORD, 'email': 'alice@example.invalid'})
        _call('PUT', f'{url}/alice/dev', {'bases': [], 'volatile': False}, ('alice', PASSWORD))
        yield reg.Registry('devpi', f'{url}/alice/dev/', f'{url}/alice/dev/+simple/', 'alice', PASSWORD)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_publish_to_devpi_server(devpi, tmp_path, capfd):
    toy = build_toy_dists(tmp_path / 'toy')
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    check_reachable(devpi)
    check_upload_credentials(devpi)                     # HTTP 400: the login is good, nothing was stored
    with pytest.raises(reg.RegistryError) as refused:
        check_upload_credentials(replace(devpi, password='wrong'))
    assert str(refused.value) == (f'HTTP 401 from {devpi.upload_url}: the index refused the credentials for user '
                                  f'alice; check index-username / EMBEDDENATOR_INDEX_TOKEN')
    assert reg.served_files(devpi, rel.dist) == {}
    verifier = Verifier(tmp_path / 'run', tmp_path / 'nowhere', tmp_path / 'logs')
    steps = Steps(root=repo, identity=tagging.Identity('Bot', 'bot@example.invalid', False), verifier=verifier,
                  served_timeout=60)
    record = publish_release(rel, devpi, steps, tmp_path / 'upload.log')
    assert record['status'] == 'published' and tagging.tag_exists(repo, rel.tag)
    assert reg.served_files(devpi, rel.dist) == rel.sha256
    again = publish_release(rel, devpi, steps, tmp_path / 'upload.log')
    assert again['status'] == 'already published'
    outputs = [*capfd.readouterr(), *(p.read_text() for p in (tmp_path / 'logs').rglob('*.log')),
               (tmp_path / 'upload.log').read_text()]
    assert not any(PASSWORD in text for text in outputs)
