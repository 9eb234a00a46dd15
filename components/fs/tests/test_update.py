"""Update in place: only new and changed files are encoded, removed ones leave, the result extracts whole."""
import os

import pytest

from embeddenator import fs
from embeddenator.fs.update import update_to

CODEC = fs.ChunkCodec(dim=1024, chunk_size=128)


def _tree(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_update_reencodes_only_changes_and_extracts_new_state(tmp_path):
    src = tmp_path / 'src'
    _tree(src, {'keep.txt': b'same ' * 100, 'edit.txt': b'old ' * 50, 'gone.txt': b'bye', 'd/x.bin': bytes(300)})
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    (src / 'gone.txt').unlink()
    (src / 'edit.txt').write_bytes(b'new content ' * 40)
    os.utime(src / 'edit.txt', ns=(1, 2))
    (src / 'd' / 'added.txt').write_bytes(b'fresh')
    engram, counts = update_to(target, src, workers=1)
    # keep.txt and d/x.bin were written within a second of the ingest: racily clean, so hashed before reuse
    assert counts == {'reused_files': 2, 'encoded_files': 2, 'removed_files': 1, 'hashed_files': 2}
    out = tmp_path / 'out'
    fs.extract(fs.load(target), out)
    got = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob('*') if p.is_file()}
    want = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob('*') if p.is_file()}
    assert got == want
    hits = fs.query(fs.load(target), b'new content ' * 10, k=1)
    assert hits['files'][0].path == 'edit.txt'


def test_update_of_a_missing_engram_is_an_fs_error(tmp_path):
    (tmp_path / 'src').mkdir()
    with pytest.raises(fs.FsError, match='no such engram'):
        update_to(tmp_path / 'missing.engram', tmp_path / 'src')


def _ingested_then_changed(tmp_path):
    """A source of 40 files ingested, then 14 of them rewritten: (source, engram, old state, new state)."""
    src = tmp_path / 'src'
    _tree(src, {f'f{i}.bin': os.urandom(5000) for i in range(40)})
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    old = {p.name: p.read_bytes() for p in src.iterdir()}
    for i in range(0, 40, 3):
        (src / f'f{i}.bin').write_bytes(os.urandom(7000))
    new = {p.name: p.read_bytes() for p in src.iterdir()}
    return src, target, old, new


@pytest.mark.parametrize('delay_ms', [0, 50, 150, 300, 600])
def test_update_killed_at_any_point_leaves_old_or_new_state(tmp_path, delay_ms):
    import signal
    import subprocess
    import sys
    import time
    src, target, old, new = _ingested_then_changed(tmp_path)
    code = f'from embeddenator.fs.update import update_to; update_to({str(target)!r}, {str(src)!r}, workers=1)'
    child = subprocess.Popen([sys.executable, '-c', code])
    time.sleep(delay_ms / 1000)
    child.send_signal(signal.SIGKILL)
    child.wait()
    out = tmp_path / 'out'
    fs.extract(fs.load(target), out)
    got = {p.name: p.read_bytes() for p in out.iterdir()}
    assert got in (old, new)


KILL_AT = '''
import os, signal, sys
from embeddenator.fs import journal
from embeddenator.fs.update import update_to
limit, written = int(sys.argv[3]), [0]
pwrite, fsync = os.pwrite, os.fsync


def killing_pwrite(fd, data, at):                # write up to `limit` bytes of the segment, then die
    data = memoryview(data).cast('B')
    room = limit - written[0]
    if room <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    n = pwrite(fd, data[:room], at)
    written[0] += n
    return n


def killing_fsync(fd):                           # all written: die before, or (limit -1) right after, the fsync
    if limit >= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    fsync(fd)
    os.kill(os.getpid(), signal.SIGKILL)


journal.os = type(sys)('os_for_the_test')
journal.os.__dict__.update(os.__dict__, pwrite=killing_pwrite if limit >= 0 else pwrite, fsync=killing_fsync)
update_to(sys.argv[1], sys.argv[2], workers=1)
'''


@pytest.mark.parametrize('limit', [0, 1, 64, 700, 5000, 40_000, 1 << 30, -1])
def test_update_killed_while_appending_leaves_old_or_new_state(tmp_path, limit):
    """SIGKILL after `limit` bytes of the appended segment (1 << 30: all written, before the fsync; -1: after it)."""
    import subprocess
    import sys
    src, target, old, new = _ingested_then_changed(tmp_path)
    script = tmp_path / 'kill_at.py'
    script.write_text(KILL_AT)
    child = subprocess.run([sys.executable, str(script), str(target), str(src), str(limit)])
    assert child.returncode == -9
    out = tmp_path / 'out'
    fs.extract(fs.load(target), out)
    got = {p.name: p.read_bytes() for p in out.iterdir()}
    assert got == (new if limit in (1 << 30, -1) else old)
    update_to(target, src, workers=1)                        # and the next update finishes the job
    fs.extract(fs.load(target), tmp_path / 'again')
    assert {p.name: p.read_bytes() for p in (tmp_path / 'again').iterdir()} == new


def test_rm_drops_paths_and_refuses_unknown_ones(tmp_path):
    from embeddenator.fs.update import remove_paths
    src = tmp_path / 'src'
    _tree(src, {'a.txt': b'a' * 500, 'd/b.txt': b'b' * 300, 'd/c.txt': b'c' * 10})
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    before = target.read_bytes()
    with pytest.raises(fs.FsError, match='not in the engram'):
        remove_paths(target, ['nope.txt'])
    for whole in ('/', '', '//'):                # the whole tree is not a stored path: named as given
        with pytest.raises(fs.FsError, match=f"^'{whole}': not a stored path"):
            remove_paths(target, [whole])
    assert target.read_bytes() == before
    remove_paths(target, ['d'])
    engram = fs.load(target)
    assert [e.path for e in engram.entries] == [b'a.txt']
    fs.extract(engram, tmp_path / 'out')
    assert (tmp_path / 'out' / 'a.txt').read_bytes() == b'a' * 500


def test_identical_files_are_stored_once_within_an_ingest_and_across_updates(tmp_path):
    src = tmp_path / 'src'
    blob = os.urandom(200_000)
    _tree(src, {'a.bin': blob, 'b/a.bin': blob, 'c/a.bin': blob})
    target = tmp_path / 't.engram'
    engram = fs.ingest_to(src, target, codec=CODEC, workers=1)
    summary = engram.summary()
    assert summary['bytes'] == 3 * len(blob) and summary['deduplicated_bytes'] == len(blob)
    one_copy = target.stat().st_size
    (src / 'd').mkdir()
    (src / 'd' / 'a.bin').write_bytes(blob)                 # a fourth copy, added by an update
    rows = engram.codebook.shape[0]
    engram, _ = update_to(target, src, workers=1)
    assert engram.summary()['deduplicated_bytes'] == len(blob)
    assert engram.codebook.shape[0] == rows                 # no new row: only the state arrays were appended
    assert target.stat().st_size < one_copy * 1.25


def test_add_puts_paths_under_their_names_and_refuses_clashes(tmp_path):
    from embeddenator.fs.update import add_paths
    src = tmp_path / 'src'
    _tree(src, {'a.txt': b'a' * 500})
    target = tmp_path / 't.engram'
    fs.ingest_to(src, target, codec=CODEC, workers=1)
    extra = tmp_path / 'extra'
    _tree(extra, {'x.txt': b'x' * 700, 'y/z.bin': os.urandom(2000)})
    _, counts = add_paths(target, [extra], workers=1)
    assert counts['encoded_files'] == 2
    before = target.read_bytes()
    with pytest.raises(fs.FsError, match='already in the engram'):
        add_paths(target, [extra])
    with pytest.raises(fs.FsError, match='cannot read'):
        add_paths(target, [tmp_path / 'missing'])
    assert target.read_bytes() == before
    out = tmp_path / 'out'
    fs.extract(fs.load(target), out)
    assert (out / 'a.txt').read_bytes() == b'a' * 500
    assert (out / 'extra' / 'y' / 'z.bin').read_bytes() == (extra / 'y' / 'z.bin').read_bytes()


INTERRUPT_AT = '''
import os, signal, sys
from embeddenator.cli.__main__ import main
from embeddenator.fs import journal
limit, written = int(sys.argv[3]), [0]
pwrite = os.pwrite


def interrupted_pwrite(fd, data, at):           # write up to `limit` bytes of the segment, then Ctrl-C
    data = memoryview(data).cast('B')
    room = limit - written[0]
    if room <= 0:
        os.kill(os.getpid(), signal.SIGINT)
    n = pwrite(fd, data[:max(room, 1)], at)
    written[0] += n
    return n


journal.os = type(sys)('os_for_the_test')
journal.os.__dict__.update(os.__dict__, pwrite=interrupted_pwrite)
sys.exit(main(['update', sys.argv[1], sys.argv[2], '--workers', '1']))
'''


@pytest.mark.parametrize('limit', [0, 700, 40_000])
def test_update_interrupted_while_appending_exits_130_with_the_engram_as_it_was(tmp_path, limit):
    """Ctrl-C after `limit` bytes of the appended segment: exit 130, one line, the engram's old bytes exactly."""
    import signal
    import subprocess
    import sys
    src, target, old, new = _ingested_then_changed(tmp_path)
    before = target.read_bytes()
    script = tmp_path / 'interrupt_at.py'
    script.write_text(INTERRUPT_AT)
    child = subprocess.run([sys.executable, str(script), str(target), str(src), str(limit)], capture_output=True,
                           text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert (child.returncode, child.stderr) == (130, 'embeddenator: interrupted\n')
    assert target.read_bytes() == before
    update_to(target, src, workers=1)
    fs.extract(fs.load(target), tmp_path / 'again')
    assert {p.name: p.read_bytes() for p in (tmp_path / 'again').iterdir()} == new
