"""What one ingest worker does with one piece of one file: read, encode, decode back, diff, hash.

Pure and self-contained so it runs the same inline, in a thread or in a worker process. Every piece is decoded
from its packed form before it is accepted: the correction store is built from what extraction will really see.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from embeddenator.fs.codec import ChunkCodec
from embeddenator.fs.corrections import DIGEST_SIZE, Correction, digest, make_correction
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import Sparse, thin


@dataclass(frozen=True)
class Piece:
    entry: int          # index of the file in the manifest
    source: str         # absolute path to read
    offset: int         # byte offset in the file (a run of data starts on a chunk boundary)
    length: int         # bytes to read
    whole: bool         # the piece is the whole file: hash it and thin its vector here


@dataclass
class PieceResult:
    entry: int
    offset: int
    rows: np.ndarray                  # (n, 2, H) uint64
    digests: np.ndarray               # (n, 16) uint8
    corrections: dict[int, Correction]   # local chunk index -> correction
    recovered: int                    # bytes right before corrections
    sha256: str | None                # whole pieces only
    vector: Sparse | np.ndarray       # whole: thinned file vector; else the int32 sum of chunk vectors
    spill_at: int = -1                # rows moved to a RowSpill: index of the first there (rows left empty)


def read_piece(piece: Piece) -> bytes:
    """The bytes of `piece`; FsError if they cannot be read or the file changed size since it was scanned."""
    try:
        with open(piece.source, 'rb') as fh:
            fh.seek(piece.offset)
            data = fh.read(piece.length)
            grew = piece.whole and fh.read(1)
    except OSError as err:
        raise FsError(f'{piece.source}: cannot read ({err.strerror or err})') from None
    if len(data) != piece.length or grew:
        raise FsError(f'{piece.source}: the file changed while it was being ingested; ingest again')
    return data


def encode_batch(codec: ChunkCodec, max_nnz: int, pieces: list[Piece]) -> list[PieceResult]:
    """One unit of pool work (several small files, or one slice of a large one), encoded as one batch of chunks."""
    datas = [read_piece(p) for p in pieces]
    counts = [codec.chunk_count(len(d)) for d in datas]
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    size = codec.chunk_size
    original = np.zeros((int(starts[-1]), size), dtype=np.uint8)
    lengths = np.full(len(original), size)
    for data, a, b in zip(datas, starts[:-1], starts[1:]):
        original.reshape(-1)[a * size: a * size + len(data)] = np.frombuffer(data, dtype=np.uint8)
        lengths[b - 1] = len(data) - (b - 1 - a) * size
    pos, neg = codec.encode_chunks(original, lengths)
    rows = codec.pack(pos, neg)
    decoded = codec.decode(rows)                       # what extraction will see, before corrections
    same = decoded == original
    trits = pos.view(np.int8) - neg.view(np.int8)
    # a plain slice sum per piece: np.add.reduceat with a widening dtype is ~15x slower here
    totals = [trits[a:b, : codec.dim].sum(axis=0, dtype=np.int32) for a, b in zip(starts[:-1], starts[1:])]
    out = []
    for k, (piece, data) in enumerate(zip(pieces, datas)):
        a, b = starts[k], starts[k + 1]
        fixes = {}
        for i in np.flatnonzero(~same[a:b].all(axis=1)):
            fix = make_correction(decoded[a + i, : lengths[a + i]], original[a + i, : lengths[a + i]])
            if fix is not None:
                fixes[int(i)] = fix
        view = memoryview(data)
        digests = np.frombuffer(b''.join(digest(view[i * size:(i + 1) * size]) for i in range(b - a)),
                                dtype=np.uint8).reshape(b - a, DIGEST_SIZE)
        recovered = int(np.count_nonzero(same[a:b])) - int((b - a) * size - len(data))
        out.append(PieceResult(piece.entry, piece.offset, rows[a:b], digests, fixes, recovered,
                               hashlib.sha256(data).hexdigest() if piece.whole else None,
                               thin(totals[k], max_nnz) if piece.whole else totals[k]))
    return out


def file_sha256(path: str, size: int | None = None, extents: list[tuple[int, int]] | None = None,
                block: int = 1 << 20) -> str:
    """SHA-256 of a file read in blocks (large files are hashed apart from their pieces).

    With `extents` (a sparse file's runs of data) only those runs are read; the holes between them, and after
    the last one up to `size`, are hashed as the zeros they read as.
    """
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as fh:
            if extents is None:
                while chunk := fh.read(block):
                    h.update(chunk)
                return h.hexdigest()
            pos = 0
            for offset, length in extents:
                hash_zeros(h, offset - pos)
                fh.seek(offset)
                for done in range(0, length, block):
                    h.update(fh.read(min(block, length - done)))
                pos = offset + length
            hash_zeros(h, size - pos)
    except OSError as err:
        raise FsError(f'{path}: cannot read ({err.strerror})') from None
    return h.hexdigest()


_ZEROS = bytes(1 << 20)


def hash_zeros(h, count: int) -> None:
    """Feed `count` zero bytes to the hash `h` (what a hole reads as), without allocating them."""
    view = memoryview(_ZEROS)
    while count > 0:
        n = min(count, len(_ZEROS))
        h.update(view[:n])
        count -= n
