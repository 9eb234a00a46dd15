"""Private indexes against real pypiservers on 127.0.0.1: reads that need the login (which pip gets through its
environment only), the preflight's probes, one-line errors, verification pip isolated from the machine's pip
configuration, and the wait for the uploaded digests. No output may carry a password."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace

import pytest

from tasks.release import registry as reg
from tasks.release import verify
from tasks.core.config import Settings
from tasks.release.index_api import check_reachable, check_upload_credentials
from tasks.release.redact import redact
from test_publish_support import build_toy_dists

TOKEN = 'pypi-WRONG-token-that-must-never-leak-0123456789'
PIN = 'embeddenator-toy==0.1.0'


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return build_toy_dists(tmp_path_factory.mktemp('toy'))


def _digests(files):
    return {f.name: reg.sha256_file(f) for f in files}


def _no_secret(password: str, *texts: str) -> None:
    for text in texts:
        assert password not in text


def test_redaction_removes_userinfo_secrets_and_colour_codes():
    text = ('GET http://alice:s3cr%40t@idx.example:8080/simple/ failed; \x1b[31mtoken s3cr@t refused\x1b[0m '
            'and https://__token__@upload.example/legacy/')
    assert redact(text, ['s3cr@t']) == ('GET http://***@idx.example:8080/simple/ failed; token *** refused '
                                        'and https://***@upload.example/legacy/')
    assert redact('nothing to hide, http://idx.example/simple/', ['']) == 'nothing to hide, http://idx.example/simple/'


def test_private_reads_send_the_login_and_pip_gets_it_through_its_environment(tmp_path, toy, capfd):
    log = tmp_path / 'pip.log'
    with reg.LocalIndex(tmp_path / 'registry', private_reads=True) as registry:
        reg.upload(registry, toy, tmp_path / 'upload.log')
        anonymous = replace(registry, password='')
        with pytest.raises(reg.RegistryError, match=r'HTTP 401 from .*needs credentials to read; export '
                                                    r'EMBEDDENATOR_INDEX_TOKEN'):
            reg.served_files(anonymous, 'embeddenator-toy')
        assert reg.served_files(registry, 'embeddenator-toy') == _digests(toy)
        reg.wait_until_served(registry, 'embeddenator-toy', _digests(toy), timeout=10)
        check_reachable(registry)
        python = verify.create_venv(tmp_path / 'venv')
        verify.install_from_index(python, registry, [PIN], log)
        password = registry.password
    assert 'Successfully installed embeddenator-toy-0.1.0' in log.read_text()
    _no_secret(password, log.read_text(), (tmp_path / 'upload.log').read_text(), *capfd.readouterr())


def test_a_login_written_into_the_index_urls_is_used_and_never_shown(tmp_path, toy, capfd):
    with reg.LocalIndex(tmp_path / 'registry', private_reads=True) as registry:
        reg.upload(registry, toy, tmp_path / 'upload.log')
        host = registry.simple_url.split('://', 1)[1]
        cfg = Settings(root=tmp_path, raw=(
            ('index', 'corp'), ('index-simple-url', f'http://{registry.username}:{registry.password}@{host}'),
            ('index-upload-url', registry.upload_url)))
        remote = reg.remote_registry(cfg, {})
        assert remote.simple_url == registry.simple_url and remote.password == registry.password
        assert reg.served_files(remote, 'embeddenator-toy') == _digests(toy)
        python = verify.create_venv(tmp_path / 'venv')
        verify.install_from_index(python, remote, [PIN], tmp_path / 'pip.log')
        password = registry.password
    with pytest.raises(reg.RegistryError) as down:   # the server is gone: the error names the URL, not the login
        reg.served_files(reg.remote_registry(cfg, {}), 'embeddenator-toy', timeout=2)
    assert 'unreachable' in str(down.value)
    _no_secret(password, str(down.value), (tmp_path / 'pip.log').read_text(), *capfd.readouterr())


def test_the_upload_probe_accepts_the_login_and_names_a_refused_one(tmp_path):
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        check_upload_credentials(registry)                   # HTTP 400: the login passed, nothing was sent
        check_reachable(registry)
        wrong = replace(registry, username='__token__', password=TOKEN)
        with pytest.raises(reg.RegistryError) as refused:
            check_upload_credentials(wrong)
        with pytest.raises(reg.RegistryError, match=r'no token to upload with; export EMBEDDENATOR_INDEX_TOKEN'):
            check_upload_credentials(replace(registry, password=''))
    assert str(refused.value) == (f'HTTP 403 from {registry.upload_url}: the index refused the credentials for user '
                                  f'__token__; check index-username / EMBEDDENATOR_INDEX_TOKEN')
    assert list((tmp_path / 'registry' / 'packages').iterdir()) == []
    with pytest.raises(reg.RegistryError, match='unreachable'):
        check_upload_credentials(registry, timeout=2)


def test_a_refused_upload_names_the_status_the_url_and_what_to_check(tmp_path, toy, capfd):
    log = tmp_path / 'upload.log'
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        wrong = replace(registry, username='__token__', password=TOKEN)
        with pytest.raises(reg.RegistryError) as err:
            reg.upload(wrong, toy, log)
    assert str(err.value).startswith(f'HTTP 403 from {registry.upload_url}: the index refused the credentials for '
                                     f'user __token__; check index-username / EMBEDDENATOR_INDEX_TOKEN; see ')
    assert '\x1b[' not in log.read_text()
    _no_secret(TOKEN, str(err.value), log.read_text(), *capfd.readouterr())


def test_the_install_check_tells_an_index_down_from_a_missing_package(tmp_path, toy):
    python = verify.create_venv(tmp_path / 'venv')
    log = tmp_path / 'pip.log'
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        with pytest.raises(verify.VerifyError, match=r'package missing on .*embeddenator-toy==0.1.0 \(the index has '
                                                     r'no version\)'):
            verify.install_from_index(python, registry, [PIN], log)
        reg.upload(registry, toy, tmp_path / 'upload.log')
    with pytest.raises(verify.VerifyError, match=r'index unreachable while installing embeddenator-toy==0.1.0'):
        verify.install_from_index(python, registry, [PIN], log)


def test_verification_pip_ignores_the_machines_find_links_and_pip_conf(tmp_path, monkeypatch):
    fresh = build_toy_dists(tmp_path / 'fresh', name='embeddenator-obs', version='0.2.0', body='ORIGIN = "index"\n')
    stale = build_toy_dists(tmp_path / 'stale', name='embeddenator-obs', version='0.2.0', body='ORIGIN = "stale"\n')
    links = tmp_path / 'find-links'
    links.mkdir()
    wheel = next(f for f in stale if f.suffix == '.whl')
    # build tag 1: were it visible, pip would prefer it to the index's file of the same version
    shutil.copy(wheel, links / wheel.name.replace('-0.2.0-', '-0.2.0-1-'))
    conf = tmp_path / 'pip.conf'
    conf.write_text(f'[global]\nfind-links = {links}\n[install]\nfind-links = {links}\n')
    home = tmp_path / 'home'
    (home / '.config' / 'pip').mkdir(parents=True)
    shutil.copy(conf, home / '.config' / 'pip' / 'pip.conf')
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setenv('PIP_FIND_LINKS', str(links))
    monkeypatch.setenv('PIP_CONFIG_FILE', str(conf))
    monkeypatch.setenv('PIP_EXTRA_INDEX_URL', links.as_uri())
    python = verify.create_venv(tmp_path / 'venv')
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        reg.upload(registry, fresh, tmp_path / 'upload.log')
        verify.install_from_index(python, registry, ['embeddenator-obs==0.2.0'], tmp_path / 'pip.log')
    origin = subprocess.run([str(python), '-I', '-c', 'import embeddenator_obs as m; print(m.ORIGIN)'],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert origin == 'index', (tmp_path / 'pip.log').read_text()


def test_a_file_served_with_another_digest_times_out_naming_both_digests(tmp_path, toy):
    other = build_toy_dists(tmp_path / 'other', body='VALUE = 2\n')
    wheel = next(f for f in other if f.suffix == '.whl')
    expected = _digests(toy)
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        reg.upload(registry, [wheel], tmp_path / 'upload.log')
        with pytest.raises(reg.RegistryError) as err:
            reg.wait_until_served(registry, 'embeddenator-toy', expected, timeout=1, interval=0.2)
    message = str(err.value)
    assert (f'{wheel.name} is served with SHA-256 {reg.sha256_file(wheel)}, uploaded {expected[wheel.name]}'
            in message)
    sdist = next(n for n in expected if n.endswith('.tar.gz'))
    assert f'{sdist} is not listed' in message and 'still does not serve the uploaded files after 1 s' in message
