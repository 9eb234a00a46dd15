"""All or nothing: a refused or failed extraction writes nothing, Ctrl-C stops extract and ingest cleanly (exit
130, no traceback, no staging folder), and a killed ingest's partial engram is cleared by the next one."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from embeddenator import fs

CLI = [sys.executable, '-m', 'embeddenator.cli']


def _listing(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root)
                  for n in dirs + files)


def _src(tmp_path, files=30, size=20_000):
    src = tmp_path / 'src'
    (src / 'sub').mkdir(parents=True)
    for i in range(files):
        (src / ('sub' if i % 2 else '.') / f'f{i:02}.bin').write_bytes(os.urandom(size))
    return src


def test_a_clash_anywhere_refuses_before_a_byte_is_written(tmp_path):
    engram = fs.ingest(_src(tmp_path), workers=1)
    out = tmp_path / 'out'
    (out / 'sub').mkdir(parents=True)
    (out / 'sub' / 'f29.bin').write_bytes(b'mine')             # the last file in the manifest
    with pytest.raises(fs.FsError, match='f29.bin already exists; nothing was written'):
        fs.extract(engram, out)
    assert _listing(out) == ['sub', 'sub/f29.bin'] and (out / 'sub' / 'f29.bin').read_bytes() == b'mine'


def test_forced_extract_gives_exactly_the_engrams_entries(tmp_path):
    src = _src(tmp_path, files=4)
    engram = fs.ingest(src, workers=1)
    out = tmp_path / 'out'
    (out / 'f00.bin').mkdir(parents=True)                    # a folder where the engram has a file
    (out / 'sub' / 'f01.bin').mkdir(parents=True)
    os.symlink('/', out / 'f02.bin')
    fs.extract(engram, out, force=True)
    assert _listing(out) == _listing(src)
    for name in ('f00.bin', 'sub/f01.bin', 'f02.bin'):
        assert (out / name).read_bytes() == (src / name).read_bytes()


def test_a_damaged_file_fails_the_extraction_and_leaves_no_output(tmp_path, damage_chunk):
    engram = fs.ingest(_src(tmp_path, files=6), workers=1)
    damage_chunk(engram, int(engram.chunk_ids[engram.files[-1].first]))
    with pytest.raises(fs.IntegrityError):
        fs.extract(engram, tmp_path / 'out')
    assert not (tmp_path / 'out').exists()
    (tmp_path / 'kept').mkdir()
    with pytest.raises(fs.IntegrityError):
        fs.extract(engram, tmp_path / 'kept')
    assert os.listdir(tmp_path / 'kept') == []


SLOW_EXTRACT = textwrap.dedent('''
    import sys, time
    import importlib
    x = importlib.import_module('embeddenator.fs.extract')
    from embeddenator.cli.__main__ import main
    fast = x.file_blocks
    def slow(engram, entry, block=x.BLOCK_CHUNKS):
        for part in fast(engram, entry, block=2):
            time.sleep(0.05)
            yield part
    x.file_blocks = slow
    sys.exit(main(sys.argv[1:]))
''')

SLOW_INGEST = textwrap.dedent('''
    import sys, time
    import importlib
    i = importlib.import_module('embeddenator.fs.ingest')
    from embeddenator.cli.__main__ import main
    fast = i.encode_batch
    def slow(*args):
        time.sleep(0.5)
        return fast(*args)
    i.encode_batch, i.BATCH_BYTES = slow, 100_000
    sys.exit(main(sys.argv[1:]))
''')


def _as_from_a_terminal() -> None:
    """Run the child with SIGINT's default action, as a shell in a terminal starts it. A test runner started in the
    background by a non-interactive shell (or under nohup) ignores SIGINT, and its children inherit that: Python then
    installs no KeyboardInterrupt handler and the Ctrl-C these tests send would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_when(proc, ready, sig=signal.SIGINT, timeout=60):
    """Wait until `ready()` holds, then signal the process group (as a terminal's Ctrl-C does)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, sig)
    return proc.communicate(timeout=30)


def _staged(out):
    return [n for n in os.listdir(out) if n.startswith('.embeddenator-extract.')] if out.exists() else []


def test_ctrl_c_stops_extract_with_130_no_traceback_and_no_staging_folder(tmp_path):
    src = _src(tmp_path, files=8, size=200_000)
    fs.ingest_to(src, tmp_path / 't.engram', workers=1)
    out = tmp_path / 'out'
    proc = subprocess.Popen([sys.executable, '-c', SLOW_EXTRACT, 'extract', str(tmp_path / 't.engram'), '-o',
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_from_a_terminal)
    _, err = _interrupt_when(proc, lambda: _staged(out))
    assert proc.returncode == 130, err
    assert 'Traceback' not in err and 'interrupted' in err
    assert not out.exists()                                   # the run made it, and it holds nothing


def test_ctrl_c_stops_ingest_with_130_and_no_traceback_from_any_worker(tmp_path):
    src = _src(tmp_path, files=40, size=100_000)
    target = tmp_path / 't.engram'
    proc = subprocess.Popen([sys.executable, '-c', SLOW_INGEST, 'ingest', str(src), '-o', str(target),
                             '--workers', '2'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_from_a_terminal)
    time.sleep(1.5)
    _, err = _interrupt_when(proc, lambda: True)
    assert proc.returncode == 130, err
    assert 'Traceback' not in err and 'KeyboardInterrupt' not in err
    assert os.listdir(tmp_path) == ['src']


HANG_IN_WRITE = textwrap.dedent('''
    import sys, time
    import embeddenator.io.atomic as a
    from embeddenator.cli.__main__ import main
    a.os.fsync = lambda fd: time.sleep(600)
    sys.exit(main(sys.argv[1:]))
''')


def test_a_killed_ingests_partial_engram_is_removed_by_the_next_ingest(tmp_path):
    src = _src(tmp_path, files=4)
    target = tmp_path / 't.engram'
    proc = subprocess.Popen([sys.executable, '-c', HANG_IN_WRITE, 'ingest', str(src), '-o', str(target),
                             '--workers', '1'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    partials = lambda: [n for n in os.listdir(tmp_path) if n.endswith('.partial')]    # noqa: E731
    _interrupt_when(proc, partials, signal.SIGKILL)
    [left] = partials()
    assert left.startswith(f'.t.engram.{proc.pid}.')
    info = subprocess.run([*CLI, 'info', str(tmp_path / left)], capture_output=True, text=True)
    assert info.returncode == 1 and 'unfinished' in info.stderr and 'Traceback' not in info.stderr
    again = subprocess.run([*CLI, 'ingest', str(src), '-o', str(target), '--workers', '1'], capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert partials() == [] and fs.load(target).summary()['files'] == 4


def test_a_partial_of_a_live_process_is_left_alone(tmp_path):
    src = _src(tmp_path, files=2)
    live = tmp_path / f'.t.engram.{os.getpid()}.abcd1234.partial'
    live.write_bytes(b'in progress')
    fs.ingest_to(src, tmp_path / 't.engram', workers=1)
    assert live.exists()


def test_a_killed_extracts_staging_folder_is_removed_by_the_next_extract(tmp_path):
    src = _src(tmp_path, files=2)
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    out = tmp_path / 'out'
    (out / f'.embeddenator-extract.{dead.pid}.abcd1234' / 'half').mkdir(parents=True)
    fs.extract(fs.ingest(src, workers=1), out)
    assert _listing(out) == _listing(src)
