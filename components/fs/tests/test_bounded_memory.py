"""Memory that does not grow with the tree: ingest keeps compressed frames on disk until the engram is written, and
loading or extracting an engram does not make the whole memory-mapped file resident."""
import os
import subprocess
import sys
import textwrap

import numpy as np

from embeddenator import fs
from embeddenator.fs.store import FrameWriter


def _tree(tmp_path, megabytes=4):
    src = tmp_path / 'src'
    (src / 'd').mkdir(parents=True)
    (src / 'big.bin').write_bytes(os.urandom(megabytes << 20))
    for i in range(30):
        (src / 'd' / f'{i}.txt').write_bytes(b'same small file\n' * 40 if i % 3 else os.urandom(3000))
    return src


def test_frames_kept_on_disk_write_the_same_engram_bytes_as_frames_in_memory(tmp_path, monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module('embeddenator.fs.ingest'), 'BATCH_BYTES', 200 * 1250)
    src = _tree(tmp_path)
    engram = fs.ingest_to(src, tmp_path / 'spilled.engram', workers=2)
    fs.save(fs.ingest(src, workers=1), tmp_path / 'memory.engram')
    assert (tmp_path / 'spilled.engram').read_bytes() == (tmp_path / 'memory.engram').read_bytes()
    assert np.array_equal(engram.codebook, fs.load(tmp_path / 'memory.engram').codebook)
    assert not [n for n in os.listdir(tmp_path) if n not in ('src', 'spilled.engram', 'memory.engram')]


def test_frames_put_in_any_order_come_back_in_number_order_and_unused_ones_are_left_out(tmp_path):
    frames = {3: b'three', 0: b'zero!!', 7: b'seven' * 3, 1: b'one'}
    for folder in (tmp_path, None):
        with FrameWriter(folder) as writer:
            for number, frame in frames.items():
                writer.put(number, frame)
            data, offsets = writer.arrays(np.array([0, 3, 7]))
            data = b''.join(bytes(b) for b in data.blocks()) if folder is not None else data.tobytes()
            assert data == b'zero!!three' + b'seven' * 3 and offsets.tolist() == [0, 6, 11, 26]


RESIDENT = textwrap.dedent('''
    import re, sys
    from embeddenator import fs
    def file_kb():
        return int(re.search(r'RssFile:\\s+(\\d+)', open('/proc/self/status').read()).group(1))
    before = file_kb()
    engram = fs.load(sys.argv[1])
    print(file_kb() - before)
''')


def test_loading_an_engram_does_not_make_the_file_resident(tmp_path):
    fs.ingest_to(_tree(tmp_path, megabytes=24), tmp_path / 't.engram', workers=2)
    size_kb = os.path.getsize(tmp_path / 't.engram') // 1024
    grew = subprocess.run([sys.executable, '-c', RESIDENT, str(tmp_path / 't.engram')], capture_output=True,
                          text=True, check=True)
    assert int(grew.stdout) < size_kb // 4, (grew.stdout, size_kb)
