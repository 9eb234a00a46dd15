"""Random access into stored files (fs.reader) and the tree a mount shows (fs.tree), without FUSE."""
import os
import random
import stat

import numpy as np
import pytest

from embeddenator import fs, obs
from embeddenator.fs.errors import IntegrityError
from embeddenator.fs.mount import check_mountpoint
from embeddenator.fs.reader import ChunkReader
from embeddenator.fs.tree import Tree

BIG = 4096 * 1250 * 2          # a multiple of the page and of the chunk: the last 4 KB is exactly 4 chunks


@pytest.fixture
def stored(tmp_path):
    src = tmp_path / 'src'
    (src / 'd' / 'e').mkdir(parents=True)
    (src / 'big.bin').write_bytes(np.random.default_rng(1).integers(0, 256, BIG, dtype=np.uint8).tobytes())
    (src / 'd' / 'small.txt').write_bytes(b'tiny\n')
    (src / 'd' / 'empty').write_bytes(b'')
    with open(src / 'sparse', 'wb') as fh:          # data, a hole of 3 MB, data, a hole to the end
        fh.write(b'a' * 3000)
        fh.seek(3 << 20)
        fh.write(b'b' * 5000)
        fh.truncate(6 << 20)
    os.link(src / 'd' / 'small.txt', src / 'hard')
    os.symlink('d/small.txt', src / 'link')
    os.mkfifo(src / 'fifo')
    os.chmod(src / 'd' / 'small.txt', 0o640)
    os.utime(src / 'big.bin', ns=(1, 1_234_567_891_234_567_891))
    return src, fs.ingest_to([src], tmp_path / 't.engram', workers=1)


def entry(engram, path):
    return next(e for e in engram.entries if e.path == path)


def decoded_total():
    return obs.counter('fs_chunks_decoded_total').value


def test_random_reads_match_the_source(stored):
    src, engram = stored
    reader = ChunkReader(engram, cache_chunks=8)
    data, big = (src / 'big.bin').read_bytes(), entry(engram, b'big.bin')
    rng = random.Random(0)
    for _ in range(300):
        offset, size = rng.randrange(BIG + 10), rng.choice([1, 100, 1250, 4096, 131072, 300000])
        assert reader.read(big, offset, size) == data[offset: offset + size]
    sparse, want = entry(engram, b'sparse'), (src / 'sparse').read_bytes()
    for offset in (0, 2999, 3000, (3 << 20) - 10, (3 << 20) + 4990, (6 << 20) - 1, 6 << 20):
        assert reader.read(sparse, offset, 9000) == want[offset: offset + 9000]


def test_the_last_4_kb_of_a_large_file_decodes_only_its_chunks(stored):
    _, engram = stored
    reader, big = ChunkReader(engram), entry(engram, b'big.bin')
    before = decoded_total()
    reader.read(big, BIG - 4096, 4096)
    assert reader.decoded == 4 and decoded_total() - before == 4     # 4096 bytes over 1250-byte chunks
    reader.read(big, BIG - 4096, 4096)
    assert reader.decoded == 4                                         # the LRU cache answers the second read
    reader.read(big, BIG // 2, 1)
    assert reader.decoded == 5


def test_holes_read_as_zeros_and_decode_nothing(stored):
    _, engram = stored
    reader = ChunkReader(engram)
    assert reader.read(entry(engram, b'sparse'), 1 << 20, 65536) == bytes(65536)
    assert reader.decoded == 0


def test_a_damaged_chunk_is_an_integrity_error(stored, damage_chunk):
    _, engram = stored
    damage_chunk(engram, int(engram.chunk_ids[entry(engram, b'big.bin').first]))
    with pytest.raises(IntegrityError, match='big.bin'):
        ChunkReader(engram).read(entry(engram, b'big.bin'), 0, 10)


def test_stat_shows_the_stored_metadata(stored):
    src, engram = stored
    tree = Tree(engram)
    for name in ('big.bin', 'd', 'd/small.txt', 'hard', 'link', 'fifo', 'sparse', 'd/empty'):
        got, want = tree.stat(tree.lookup(name.encode())), os.lstat(src / name)
        for field in ('st_mode', 'st_uid', 'st_gid', 'st_nlink') + (('st_size',) * (name != 'd')):
            assert got[field] == getattr(want, field), (name, field)
        assert got['st_mtime'] == want.st_mtime_ns, name
    assert tree.stat(tree.lookup(b'hard'))['st_ino'] == tree.stat(tree.lookup(b'd/small.txt'))['st_ino']
    assert tree.stat(tree.lookup(b'sparse'))['st_blocks'] * 512 < (6 << 20)
    assert stat.S_ISDIR(tree.stat(tree.lookup(b''))['st_mode'])
    assert tree.children(b'') == sorted(os.fsencode(n) for n in os.listdir(src))
    assert tree.children(b'd') == [b'e', b'empty', b'small.txt'] and tree.lookup(b'nope') is None


def test_mountpoint_checks_say_what_is_wrong(tmp_path):
    (tmp_path / 'file').write_bytes(b'')
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'x').write_bytes(b'')
    (tmp_path / 'empty').mkdir()
    for name, words in (('nope', 'no such mountpoint'), ('file', 'not a folder'), ('full', 'not empty')):
        with pytest.raises(fs.FsError, match=words):
            check_mountpoint(tmp_path / name)
    with pytest.raises(fs.FsError, match='already a mount point'):
        check_mountpoint('/proc')
    assert check_mountpoint(tmp_path / 'empty') == str(tmp_path / 'empty')


def test_an_engram_without_owners_shows_the_mounting_user(stored):
    _, engram = stored
    for item in engram.entries:
        item.uid = item.gid = None                  # as a v1 engram loads
    engram.root_entry = None
    tree = Tree(engram)
    for path in (b'', b'big.bin', b'd'):
        got = tree.stat(tree.lookup(path))
        assert (got['st_uid'], got['st_gid']) == (os.getuid(), os.getgid())
    assert stat.S_IMODE(tree.stat(tree.lookup(b''))['st_mode']) == 0o755


def test_a_damaged_frame_is_an_integrity_error_naming_the_file(stored):
    _, engram = stored
    part = engram.store.parts[0]
    frames = np.array(part.frames)
    frames[int(part.frame_offsets[-1]) // 2] ^= 0x10                 # inside some frame's compressed bytes
    part.frames = frames
    engram.store.cache.clear()
    reader, big = ChunkReader(engram), entry(engram, b'big.bin')
    with pytest.raises(IntegrityError, match='big.bin: .*frame .* is damaged'):
        for offset in range(0, big.size, 1 << 20):
            reader.read(big, offset, 1 << 20)
