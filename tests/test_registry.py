"""The embedded index is a real pypiserver: it starts, authenticates uploads, serves digests, stops, and a token
never reaches output, logs or errors."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasks.release import registry as reg
from tasks.core.config import Settings
from test_publish_support import build_toy_dists

TOKEN = 'pypi-SECRET-token-that-must-never-leak-0123456789'


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return build_toy_dists(tmp_path_factory.mktemp('toy'))


def _alive(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().split()[2]
    except OSError:
        return False
    return state != 'Z'


def test_local_index_serves_uploads_by_digest_and_stops(tmp_path, toy):
    index = reg.LocalIndex(tmp_path / 'registry')
    with index as registry:
        pid = index.proc.pid
        assert registry.local and registry.simple_url.startswith('http://127.0.0.1:')
        assert reg.served_files(registry.simple_url, 'embeddenator-toy') == {}
        reg.upload(registry, toy, tmp_path / 'upload.log')
        expected = {f.name: reg.sha256_file(f) for f in toy}
        reg.wait_until_served(registry.simple_url, 'embeddenator-toy', expected, timeout=10)
        assert reg.served_files(registry.simple_url, 'embeddenator_toy') == expected
        assert (tmp_path / 'registry' / f'server-{pid}.pid').is_file()
    assert not _alive(pid)
    assert not (tmp_path / 'registry' / f'server-{pid}.pid').exists()
    assert registry.password not in (tmp_path / 'upload.log').read_text()
    assert registry.password not in repr(registry)


def test_a_second_upload_of_a_file_is_refused(tmp_path, toy):
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        reg.upload(registry, toy[:1], tmp_path / 'upload.log')
        with pytest.raises(reg.RegistryError, match='twine upload refused'):
            reg.upload(registry, toy[:1], tmp_path / 'upload.log')


def test_wrong_credentials_are_refused_and_the_token_never_leaks(tmp_path, toy, capfd):
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        wrong = reg.Registry('remote', registry.upload_url, registry.simple_url, '__token__', TOKEN)
        with pytest.raises(reg.RegistryError) as err:
            reg.upload(wrong, toy, tmp_path / 'upload.log')
    out, errout = capfd.readouterr()
    for text in (str(err.value), out, errout, (tmp_path / 'upload.log').read_text(), repr(wrong)):
        assert TOKEN not in text


def test_remote_index_token_comes_from_the_environment(tmp_path):
    cfg = Settings(root=tmp_path, raw=(('index', 'testpypi'), ('index-simple-url', 'https://test.pypi.org/simple'),
                                       ('index-upload-url', 'https://test.pypi.org/legacy/')))
    remote = reg.remote_registry(cfg, {reg.TOKEN_ENV: TOKEN})
    assert remote.password == TOKEN and remote.username == '__token__'
    assert remote.simple_url == 'https://test.pypi.org/simple/'
    assert TOKEN not in repr(remote)
    assert remote.redact(f'failed with {TOKEN}') == 'failed with ***'
    assert reg.remote_registry(Settings(root=tmp_path)) is None


def test_a_remote_index_without_token_reads_anonymously_and_names_the_variable_for_uploads(tmp_path, monkeypatch):
    monkeypatch.setattr(reg, '_keyring_token', lambda url, user: None)
    cfg = Settings(root=tmp_path, raw=(('index', 'corp'), ('index-simple-url', 'https://x/simple/'),
                                       ('index-upload-url', 'https://x/upload/')))
    remote = reg.remote_registry(cfg, {})
    assert remote.auth is None
    with pytest.raises(reg.RegistryError, match=f'no token to upload with; export {reg.TOKEN_ENV}'):
        reg.upload(remote, [], tmp_path / 'upload.log')


def test_an_index_that_is_down_is_a_clear_error(tmp_path):
    url = f'http://127.0.0.1:{reg.free_port()}/simple/'
    with pytest.raises(reg.RegistryError, match='unreachable'):
        reg.served_files(url, 'embeddenator-toy', timeout=2)
    started = time.monotonic()
    with pytest.raises(reg.RegistryError, match='still does not serve'):
        reg.wait_until_served(url, 'embeddenator-toy', {'x.whl': '0' * 64}, timeout=1, interval=0.2)
    assert time.monotonic() - started < 10


def test_an_orphan_server_left_by_a_killed_run_is_stopped(tmp_path):
    packages = tmp_path / 'packages'
    packages.mkdir()
    orphan = subprocess.Popen([sys.executable, '-m', 'pypiserver', 'run', '-p', str(reg.free_port()),
                               '-i', '127.0.0.1', '-a', '.', '-P', '.', str(packages)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bystander, dead = subprocess.Popen(['sleep', '30']), subprocess.Popen(['true'])
    dead.wait()
    try:
        (tmp_path / 'htpasswd-1').write_text('x')
        live_run = tmp_path / f'server-{orphan.pid}.pid'
        live_run.write_text(f'{bystander.pid} htpasswd-1')
        assert reg.kill_orphans(tmp_path) == 0        # its starter still runs (a parallel worker): kept
        reused = tmp_path / f'server-{bystander.pid}.pid'
        reused.write_text(f'{dead.pid} htpasswd-2')
        live_run.write_text(f'{dead.pid} htpasswd-1')
        assert reg.kill_orphans(tmp_path) == 1        # the pid reused by `sleep` is left alone
        assert orphan.wait(timeout=10) is not None and bystander.poll() is None
        assert list(tmp_path.glob('server-*.pid')) == [] and not (tmp_path / 'htpasswd-1').exists()
    finally:
        for proc in (orphan, bystander):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_servers_share_one_folder(tmp_path, toy):
    with reg.LocalIndex(tmp_path / 'registry') as one, reg.LocalIndex(tmp_path / 'registry') as two:
        reg.upload(one, toy[:1], tmp_path / 'upload.log')
        reg.upload(two, toy[1:], tmp_path / 'upload.log')
        assert set(reg.served_files(two.simple_url, 'embeddenator-toy')) == {f.name for f in toy}
    assert sorted(p.name for p in (tmp_path / 'registry').iterdir()) == ['packages', 'server.log']
