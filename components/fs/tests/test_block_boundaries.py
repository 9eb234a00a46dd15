"""Files longer than one extraction block, with a short last chunk: every size around the block boundaries.

Extraction decodes a file in blocks of chunks and cuts the last block to the file's length; a file of one block
never exercises that cut after the first block. A small codec keeps these files small: sizes n x chunk and
n x chunk +- 1 for n at and around one, two and three blocks.
"""
import hashlib
import importlib
import os

import numpy as np
import pytest

from embeddenator import fs

extract_module = importlib.import_module('embeddenator.fs.extract')   # the package exports a function of that name

CHUNK = 16
BLOCK = extract_module.BLOCK_CHUNKS           # chunks decoded at once
CHUNKS = [1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK - 1, 2 * BLOCK, 2 * BLOCK + 1, 3 * BLOCK + 7]
SIZES = sorted({n * CHUNK + d for n in CHUNKS for d in (-1, 0, 1)})


def _data(size):
    """Bytes that differ in every chunk (random), so a chunk taken from the wrong place shows."""
    return np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()


@pytest.fixture(scope='module')
def engram(tmp_path_factory):
    src = tmp_path_factory.mktemp('src')
    for size in SIZES:
        (src / f'{size}.bin').write_bytes(_data(size))
    return fs.ingest(src, codec=fs.ChunkCodec(dim=256, chunk_size=CHUNK), workers=1)


def test_sizes_span_the_block_boundaries():
    assert BLOCK * CHUNK - 1 in SIZES and 2 * BLOCK * CHUNK + 1 in SIZES and max(SIZES) > 3 * BLOCK * CHUNK


@pytest.mark.parametrize('size', SIZES)
def test_read_file_returns_every_byte(engram, size):
    entry = next(e for e in engram.files if e.path == f'{size}.bin'.encode())
    data = fs.read_file(engram, entry)
    assert len(data) == size
    assert data == _data(size)


def test_extract_writes_every_size_exactly(engram, tmp_path):
    fs.extract(engram, tmp_path / 'out')
    for size in SIZES:
        path = tmp_path / 'out' / f'{size}.bin'
        assert path.stat().st_size == size, path.name
        assert path.read_bytes() == _data(size), path.name


def test_default_codec_file_of_more_than_one_block(tmp_path):
    """The default codec's block is 4096 x 1250 bytes; 5,200,100 bytes is one block and a short second one."""
    src = tmp_path / 'src'
    src.mkdir()
    data = os.urandom(5_200_100)
    (src / 'big.bin').write_bytes(data)
    engram = fs.ingest(src, workers=1)
    assert engram.files[0].count > BLOCK and engram.files[0].size % engram.codec.chunk_size
    fs.extract(engram, tmp_path / 'out')
    assert hashlib.sha256((tmp_path / 'out' / 'big.bin').read_bytes()).digest() == hashlib.sha256(data).digest()
