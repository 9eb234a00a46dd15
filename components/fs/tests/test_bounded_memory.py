"""Memory that does not grow with the tree: ingest keeps codebook rows on disk until the engram is written, and
loading or extracting an engram does not make the whole memory-mapped file resident."""
import os
import subprocess
import sys
import textwrap

import numpy as np

from embeddenator import fs
from embeddenator.fs.spill import RowSpill


def _tree(tmp_path, megabytes=4):
    src = tmp_path / 'src'
    (src / 'd').mkdir(parents=True)
    (src / 'big.bin').write_bytes(os.urandom(megabytes << 20))
    for i in range(30):
        (src / 'd' / f'{i}.txt').write_bytes(b'same small file\n' * 40 if i % 3 else os.urandom(3000))
    return src


def test_the_spilled_codebook_writes_the_same_engram_bytes_as_the_in_memory_one(tmp_path, monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module('embeddenator.fs.ingest'), 'BATCH_BYTES', 200 * 1250)
    src = _tree(tmp_path)
    engram = fs.ingest_to(src, tmp_path / 'spilled.engram', workers=2)
    fs.save(fs.ingest(src, workers=1), tmp_path / 'memory.engram')
    assert (tmp_path / 'spilled.engram').read_bytes() == (tmp_path / 'memory.engram').read_bytes()
    assert np.array_equal(engram.codebook, fs.load(tmp_path / 'memory.engram').codebook)
    assert not [n for n in os.listdir(tmp_path) if n not in ('src', 'spilled.engram', 'memory.engram')]


def test_spilled_rows_come_back_in_any_order(tmp_path):
    rows = np.arange(7 * 2 * 3, dtype='<u8').reshape(7, 2, 3)
    with RowSpill(tmp_path, (2, 3)) as spill:
        assert spill.add(rows[:4]) == 0 and spill.add(rows[4:]) == 4
        order = np.array([6, 0, 1, 2, 5, 5, 3])
        assert np.array_equal(spill.read(order), rows[order])
        streamed = spill.streamed(order)
        assert streamed.shape == (7, 2, 3) and np.array_equal(
            np.concatenate(list(streamed.blocks())), rows[order])


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
