"""Publishing one release against a real local index, with faults injected: the index down, the upload refused,
verification failing, the process killed. Running again finishes the rest and uploads nothing twice."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import git
import pytest

from tasks.release import registry as reg
from tasks.release import tagging
from tasks.release.release import PublishError, Steps, publish_release
from tasks.release.verify import VerifyError
from test_publish_support import build_toy_dists, git_repo, toy_release

ROOT = Path(__file__).resolve().parents[1]
FALLBACK = tagging.Identity('Release Bot', 'release@example.invalid', configured=False)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return build_toy_dists(tmp_path_factory.mktemp('toy'))


class Recorder:
    """Counts uploads and verifications; `fail_verify` makes verification fail like a broken install would."""

    def __init__(self, fail_verify: bool = False):
        self.uploads: list[str] = []
        self.verified = 0
        self.fail_verify = fail_verify

    def upload(self, registry, files, log):
        self.uploads.extend(f.name for f in files)
        reg.upload(registry, files, log)

    def verify(self, rel, registry):
        if self.fail_verify:
            raise VerifyError('import embeddenator_toy failed in a fresh environment')
        self.verified += 1


def _steps(repo: Path, rec: Recorder, **kw) -> Steps:
    return Steps(root=repo, identity=FALLBACK, verifier=rec.verify, upload=rec.upload, served_timeout=10, **kw)


def test_publish_uploads_verifies_tags_then_skips(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    first, again = Recorder(), Recorder()
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        record = publish_release(rel, registry, _steps(repo, first), tmp_path / 'log')
        assert record['status'] == 'published' and record['tag'] == 'embeddenator-toy-v0.1.0'
        assert record['uploaded'] <= record['served'] <= record['verified']
        assert sorted(first.uploads) == sorted(f.name for f in toy) and first.verified == 1
        record = publish_release(rel, registry, _steps(repo, again), tmp_path / 'log')
    assert record['status'] == 'already published'
    assert again.uploads == [] and again.verified == 0
    tag = next(t for t in git.Repo(repo).tags if t.name == rel.tag)
    assert tag.tag.tagger.name == 'Release Bot' and 'sha256:' in tag.tag.message


def test_verification_failing_leaves_no_tag_and_a_rerun_only_verifies_and_tags(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    broken, fixed = Recorder(fail_verify=True), Recorder()
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        with pytest.raises(VerifyError):
            publish_release(rel, registry, _steps(repo, broken), tmp_path / 'log')
        assert not tagging.tag_exists(repo, rel.tag)
        record = publish_release(rel, registry, _steps(repo, fixed), tmp_path / 'log')
    assert fixed.uploads == [] and fixed.verified == 1
    assert record['status'] == 'resumed' and tagging.tag_exists(repo, rel.tag)


def test_upload_refused_publishes_nothing(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        refused = reg.Registry('local', registry.upload_url, registry.simple_url, registry.username, 'wrong')
        with pytest.raises(reg.RegistryError, match='refused'):
            publish_release(rel, refused, _steps(repo, Recorder()), tmp_path / 'log')
        assert reg.served_files(registry.simple_url, rel.dist) == {}
    assert not tagging.tag_exists(repo, rel.tag)


def test_index_down_stops_before_anything(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    url = f'http://127.0.0.1:{reg.free_port()}/'
    down = reg.Registry('local', url, url + 'simple/', 'u', 'p')
    rec = Recorder()
    with pytest.raises(reg.RegistryError, match='unreachable'):
        publish_release(rel, down, _steps(repo, rec), tmp_path / 'log')
    assert rec.uploads == [] and not tagging.tag_exists(repo, rel.tag)


def test_other_content_under_the_same_version_is_an_error(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    other = build_toy_dists(tmp_path / 'other', body='VALUE = 2\n')
    with reg.LocalIndex(tmp_path / 'registry') as registry:
        reg.upload(registry, [f for f in other if f.suffix == '.whl'], tmp_path / 'log')
        with pytest.raises(PublishError, match='bump the version'):
            publish_release(rel, registry, _steps(repo, Recorder()), tmp_path / 'log')
    assert not tagging.tag_exists(repo, rel.tag)


def test_preflight_runs_only_when_something_is_left_to_do(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)

    def blocked():
        raise PublishError('gate audit failed')

    with reg.LocalIndex(tmp_path / 'registry') as registry:
        rec = Recorder()
        with pytest.raises(PublishError, match='gate audit'):
            publish_release(rel, registry, _steps(repo, rec, preflight=blocked), tmp_path / 'log')
        assert rec.uploads == []
        publish_release(rel, registry, _steps(repo, Recorder()), tmp_path / 'log')
        record = publish_release(rel, registry, _steps(repo, Recorder(), preflight=blocked), tmp_path / 'log')
    assert record['status'] == 'already published'


KILLED_RUN = '''
import json, os, signal, sys
from pathlib import Path
sys.path[:0] = [{root!r}, {tests!r}]
from tasks.release import registry as reg
from tasks.release.release import Steps, publish_release
from tasks.release.tagging import Identity
from test_publish_support import toy_release

args = json.loads(sys.argv[1])

def killed(rel, registry):   # the process dies between upload and verification, as under `kill -9`
    os.kill(os.getpid(), signal.SIGKILL)

with reg.LocalIndex(Path(args['registry'])) as registry:
    print(registry.simple_url, flush=True)
    publish_release(toy_release([Path(f) for f in args['files']]), registry,
                    Steps(root=Path(args['repo']), identity=Identity('B', 'b@x.invalid', False), verifier=killed),
                    Path(args['log']))
'''


def test_a_run_killed_after_upload_is_resumed_without_uploading_twice(tmp_path, toy):
    repo, rel = git_repo(tmp_path / 'repo'), toy_release(toy)
    script = tmp_path / 'killed_run.py'
    script.write_text(textwrap.dedent(KILLED_RUN.format(root=str(ROOT), tests=str(ROOT / 'tests'))))
    args = {'registry': str(tmp_path / 'registry'), 'files': [str(f) for f in toy], 'repo': str(repo),
            'log': str(tmp_path / 'log')}
    proc = subprocess.run([sys.executable, str(script), json.dumps(args)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert not tagging.tag_exists(repo, rel.tag)
    rec = Recorder()
    with reg.LocalIndex(tmp_path / 'registry') as registry:   # the dead run's server is gone or cleaned up
        assert set(reg.served_files(registry.simple_url, rel.dist)) == set(rel.sha256)
        record = publish_release(rel, registry, _steps(repo, rec), tmp_path / 'log')
    assert rec.uploads == [] and rec.verified == 1
    assert record['status'] == 'resumed' and tagging.tag_exists(repo, rel.tag)
