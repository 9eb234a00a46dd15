"""What one ingest worker does with one unit of work (pieces of files): read, hash, bundle, compress.

Pure and self-contained so it runs the same inline, in a thread or in a worker process. The unit's bytes go back
as one zstd frame (the engram stores content, see `store`); only the file vector needs the codec, and with the
exact codec (one bit per trit, disjoint supports) the sum of a file's chunk vectors is a count of set bits per
position, placed at the codec's slots (`vsa.bit_sums`, compiled), so no chunk is encoded. A superposed codec
(several bits per trit) is encoded and decoded back, for its file vectors and to count the bytes its decode gets
right.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from embeddenator.fs.codec import ChunkCodec
from embeddenator.fs.corrections import DIGEST_SIZE
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import Sparse, _tie_rank, thin
from embeddenator.fs.store import compress
from embeddenator.vsa import bit_sums, keep_largest


@dataclass(frozen=True)
class Piece:
    entry: int          # index of the file in the manifest
    source: str         # absolute path to read
    offset: int         # byte offset in the file (a run of data starts on a chunk boundary)
    length: int         # bytes to read
    whole: bool         # the piece is the whole file: hash it and thin its vector here
    hash_file: bool = False     # the first slice of a file cut into slices: hash the whole file here


@dataclass
class PieceResult:
    entry: int
    offset: int
    lengths: np.ndarray               # (n,) int64: each chunk's true length
    starts: np.ndarray                # (n,) int64: each chunk's byte offset in its unit's frame
    digests: np.ndarray               # (n, 16) uint8
    recovered: int                    # bytes the codec's decode gets right (all of them with the exact codec)
    sha256: str | None                # whole pieces, and the first slice of a file cut into slices
    vector: Sparse | np.ndarray       # whole: thinned file vector; else the int32 sum of chunk vectors
    frame: int = -1                   # the number of its unit's frame (given by the parent)

    @property
    def count(self) -> int:
        return len(self.lengths)


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


def spread(codec: ChunkCodec, trits: np.ndarray) -> np.ndarray:
    """Sums over bits (`vsa.bit_sums` of a piece's bytes) as the int32 vector (dim,) they are: bit t is dimension
    ``slots[t]``."""
    out = np.zeros(codec.dim, dtype=np.int32)
    out[codec._table('slots')] = trits
    return out


def thin_one(codec: ChunkCodec, row: np.ndarray, length: int, max_nnz: int) -> Sparse:
    """`thin_bits` of a file of one chunk (`row`, `length` bytes): every magnitude is 1, so its first bits in the
    seeded order, each with the sign of the bit itself (read from the bytes, nothing unpacked)."""
    key = ('one', codec.dim, codec.chunk_size, length, max_nnz)
    if key not in _BIT_TABLES:                  # per length: the bits chosen, in the order of their dimensions
        bits = 8 * length
        chosen = np.arange(bits) if bits <= max_nnz else _first_in_order(codec, range(bits), max_nnz)
        idx = codec._table('slots')[chosen]
        by_dim = np.argsort(idx)
        chosen = chosen[by_dim]
        _BIT_TABLES[key] = (idx[by_dim].astype(np.int32), chosen >> 3, (7 - (chosen & 7)).astype(np.uint8))
    idx, byte, shift = _BIT_TABLES[key]
    return Sparse(idx, ((row[byte] >> shift) & 1).astype(np.int8) * 2 - 1)


def thin_bits(codec: ChunkCodec, trits: np.ndarray, max_nnz: int) -> Sparse:
    """`hierarchy.thin(spread(codec, trits), max_nnz)` without spreading: the `max_nnz` largest magnitudes, ties by
    the same seeded order of dimensions (`vsa.keep_largest`, compiled passes over the int32 sums)."""
    chosen = keep_largest(np.ascontiguousarray(trits, dtype=np.int32), max_nnz, _bit_place(codec))
    idx = codec._table('slots')[chosen]
    by_dim = np.argsort(idx)
    return Sparse(idx[by_dim].astype(np.int32), np.sign(trits[chosen[by_dim]]).astype(np.int8))


def _first_in_order(codec: ChunkCodec, wanted, count: int) -> np.ndarray:
    """The first `count` bits in the seeded order that are `wanted` (a boolean mask over bits, or a range of them
    from 0), read a block of the order at a time (there are always enough)."""
    order, found, at = _bit_order(codec), [], 0
    while count > 0:
        block = order[at: at + 2048]
        hit = block[block < len(wanted)][:count] if isinstance(wanted, range) else block[wanted[block]][:count]
        found.append(hit)
        count, at = count - hit.size, at + block.size
    return np.concatenate(found) if found else np.zeros(0, np.int64)


_BIT_TABLES: dict = {}


def _bit_rank(codec: ChunkCodec) -> np.ndarray:
    """The seeded tie rank (hierarchy's) of each bit's dimension (a table for `_bit_order`)."""
    key = ('rank', codec.dim, codec.chunk_size)
    if key not in _BIT_TABLES:
        _BIT_TABLES[key] = _tie_rank(codec.dim)[codec._table('slots')].astype(np.int64)
    return _BIT_TABLES[key]


def _bit_place(codec: ChunkCodec) -> np.ndarray:
    """Each bit's place in `_bit_order` (a permutation of the bits' numbers: the tie rank `vsa.keep_largest` takes)."""
    key = ('place', codec.dim, codec.chunk_size)
    if key not in _BIT_TABLES:
        place = np.empty(8 * codec.chunk_size, dtype=np.int64)
        place[_bit_order(codec)] = np.arange(place.size)
        _BIT_TABLES[key] = place
    return _BIT_TABLES[key]


def _bit_order(codec: ChunkCodec) -> np.ndarray:
    """Bits in the seeded tie order of their dimensions."""
    key = ('order', codec.dim, codec.chunk_size)
    if key not in _BIT_TABLES:
        _BIT_TABLES[key] = np.argsort(_bit_rank(codec), kind='stable')
    return _BIT_TABLES[key]


def _superposed(codec: ChunkCodec, original: np.ndarray, lengths: np.ndarray, starts: np.ndarray):
    """(bytes right per chunk, per-piece int32 vector sums) through a superposed codec's encode and decode."""
    pos, neg = codec.encode_chunks(original, lengths)
    same = codec.decode(codec.pack(pos, neg)) == original
    right = (same & (np.arange(codec.chunk_size) < lengths[:, None])).sum(axis=1)
    trits = pos.view(np.int8) - neg.view(np.int8)
    return right, [trits[a:b, : codec.dim].sum(axis=0, dtype=np.int32) for a, b in zip(starts[:-1], starts[1:])]


def encode_batch(codec: ChunkCodec, max_nnz: int, pieces: list[Piece]) -> tuple[list[PieceResult], bytes]:
    """One unit of pool work (several small files, or one slice of a large one), taken as one batch of chunks:
    each piece's result, and the unit's bytes as one compressed frame."""
    datas = [read_piece(p) for p in pieces]
    counts = [codec.chunk_count(len(d)) for d in datas]
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    size = codec.chunk_size
    original = np.zeros((int(starts[-1]), size), dtype=np.uint8)
    lengths = np.full(len(original), size)
    for data, a, b in zip(datas, starts[:-1], starts[1:]):
        original.reshape(-1)[a * size: a * size + len(data)] = np.frombuffer(data, dtype=np.uint8)
        lengths[b - 1] = len(data) - (b - 1 - a) * size
    if codec.overlap == 1:
        right = lengths
        vectors = [_vector(codec, p, original[a:b], int(lengths[b - 1]), max_nnz)
                   for p, a, b in zip(pieces, starts[:-1].tolist(), starts[1:].tolist())]
    else:
        right, totals = _superposed(codec, original, lengths, starts)
        vectors = [thin(t, max_nnz) if p.whole else t for p, t in zip(pieces, totals)]
    digests = chunk_digests(datas, size)
    out, at = [], 0
    for k, (piece, data) in enumerate(zip(pieces, datas)):
        a, b = int(starts[k]), int(starts[k + 1])
        out.append(PieceResult(piece.entry, piece.offset, lengths[a:b], at + size * np.arange(b - a), digests[a:b],
                               int(right[a:b].sum()), _sha256(piece, data), vectors[k]))
        at += len(data)
    return out, compress(b''.join(datas))


def chunk_digests(datas: list[bytes], size: int) -> np.ndarray:
    """`corrections.digest` of every chunk of every piece, (n, 16) uint8, in one pass."""
    blake2b = hashlib.blake2b
    return np.frombuffer(b''.join([blake2b(view[i: i + size], digest_size=DIGEST_SIZE).digest()
                                   for view in map(memoryview, datas) for i in range(0, len(view), size)]),
                         dtype=np.uint8).reshape(-1, DIGEST_SIZE)


def _vector(codec: ChunkCodec, piece: Piece, rows: np.ndarray, last: int, max_nnz: int):
    """A whole piece's thinned file vector, or a slice's int32 sum of chunk vectors (exact codec)."""
    if piece.whole and len(rows) == 1:
        return thin_one(codec, rows[0], last, max_nnz)
    trits = bit_sums(rows.reshape(-1)[: (len(rows) - 1) * codec.chunk_size + last], codec.chunk_size)
    return thin_bits(codec, trits, max_nnz) if piece.whole else spread(codec, trits)


def _sha256(piece: Piece, data: bytes) -> str | None:
    if piece.whole:
        return hashlib.sha256(data).hexdigest()
    return file_sha256(piece.source) if piece.hash_file else None


def prepare(codec: ChunkCodec) -> None:
    """Build the codec's and the thinning's tables once, before worker processes are forked (they inherit them)."""
    codec._table('slots')
    if codec.overlap == 1:
        _bit_place(codec)


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
