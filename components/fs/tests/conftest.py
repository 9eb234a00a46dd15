import os

import pytest


@pytest.fixture
def tree(tmp_path):
    """A small tree with every kind of entry extraction must restore."""
    src = tmp_path / 'src'
    (src / 'a' / 'b').mkdir(parents=True)
    (src / 'empty-dir').mkdir()
    (src / 'a' / 'hello.txt').write_bytes(b'hello, world\n')
    (src / 'a' / 'empty.txt').write_bytes(b'')
    (src / 'a' / 'b' / 'blob.bin').write_bytes(os.urandom(7000))
    (src / 'a' / 'b' / 'copy.txt').write_bytes(b'hello, world\n')
    (src / 'ünïcødé ✓.txt').write_text('ü' * 900, encoding='utf-8')
    with open(os.path.join(os.fsencode(src), b'latin-\xe9\xff.bin'), 'wb') as fh:
        fh.write(b'not utf-8 name' * 10)
    os.symlink('a/hello.txt', src / 'link')
    os.chmod(src / 'a' / 'hello.txt', 0o600)
    return src


def _legacy_arrays(engram):
    """The arrays and metadata of `engram` as format v3 (and v1, v2) stored them: packed codebook rows, their
    digests and an empty correction store, beside the same state arrays."""
    import numpy as np
    from embeddenator.fs.engram import state_arrays
    from embeddenator.fs.journal import checks
    arrays = {**state_arrays(engram), 'codebook': np.asarray(engram.codebook).astype('<u8'),
              'digests': np.asarray(engram.digests), 'fix_rows': np.zeros(0, '<i8'),
              'fix_kinds': np.zeros(0, np.uint8), 'fix_offsets': np.zeros(1, '<i8'),
              'fix_payload': np.zeros(0, np.uint8)}
    meta = {'codec': engram.codec.describe(), 'stats': engram.stats, 'segment': 0, 'base_rows': 0,
            'checks': checks(arrays)}
    return arrays, meta


@pytest.fixture
def legacy_arrays():
    """engram -> (arrays, meta) of the packed-row formats (v1 to v3), to write old engrams with io."""
    return _legacy_arrays


def _damage_chunk(engram, row: int, byte: int = 0):
    """Flip the lowest bit of byte `byte` of the stored chunk `row` (in memory: the store is made again, one valid
    frame holding the wrong bytes, as a bad write or a bad disk would leave them)."""
    import numpy as np
    from embeddenator.fs.engram import attach_store
    from embeddenator.fs.store import FrameWriter, Part, compress, row_arrays
    lengths = engram.store.lengths
    starts = np.cumsum(lengths) - lengths
    data = bytearray(engram.store.read(np.arange(len(engram.store))))
    data[starts[row] + byte] ^= 1
    writer = FrameWriter()
    writer.put(0, compress(bytes(data)))
    attach_store(engram, [Part.of(row_arrays(writer, np.zeros(len(lengths), np.int64), starts, lengths))])
    return engram


@pytest.fixture
def damage_chunk():
    """(engram, row, byte=0) -> the engram with that stored byte changed."""
    return _damage_chunk
