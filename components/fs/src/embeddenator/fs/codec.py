"""The chunk codec: chunk bytes <-> one ternary hypervector, reversibly.

Encoding (version 1), for a chunk of L bytes in dimension D (defaults: L = 1250, D = 10 000 = 8 L):

- *Byte hypervectors.* Byte value b is the bundle of its eight bits as signs: in a local frame of eight slots,
  slot j holds +1 when bit j of b (most significant first) is set and -1 when it is clear.
- *Position hypervectors.* Position i is a permutation rho_i that sends local slot j to dimension
  ``slots[8 i + j]``; ``slots`` is the start of one seeded permutation of ``range(D)``, so the supports of
  different positions are disjoint.
- *Bind and bundle.* The chunk vector is the bundle (sum, then sign) of rho_i(B[b_i]) over its positions.
  Because the supports are disjoint the bundle never has to break a tie: every trit survives and decoding
  (unbind each position, take the nearest byte vector, which reduces to the sign of each of its eight slots) is
  exact. Bundling *overlapping* supports into a ternary vector destroys information fast (with 4 D / (8 L) = 4
  times as many dimensions, about a fifth of the bytes still decode wrong), so the overlap happens one level up,
  in the file and directory bundles used for search, never in the codebook that extraction reads.
- A short last chunk leaves its unused slots at 0. Padding bits of the packed words are 0.
- *Superposed settings* (``8 L > D``, ``overlap`` = ceil(8 L / D) <= 8 bits per trit): ``slots`` is a seeded
  permutation of ``range(8 L)`` folded modulo D, each trit is the sign of the sum of its bits' +-1 (0 on a tie),
  and decoding reads a 1 where the trit is +1. Lossy by design; ingest stores corrections that make it exact.

Seed scheme: ``slots`` are the dimensions sorted by 64-bit keys read from SHA-256 in counter mode over
``b"embeddenator-fs/codec/v1/" + D + L``; nothing depends on numpy's random streams or on Python's ``hash``, so
the same bytes give the same vectors on every machine and every numpy version.

Packed layout: exactly the rows of a ``vsa.PackedMatrix`` (see ``vsa.row_layout``), as an (n, 2, H) uint64 array:
plane 0 = +1, plane 1 = -1, dimension d in bit ``d % 64`` of word ``d // 64``, each plane ``W = ceil(D / 64)``
words padded with zero words to ``H = 8 * ceil(W / 8)`` (whole cache lines). ``rows.reshape(-1)`` is a
PackedMatrix buffer, so the codebook is searched by the kernels without a copy.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

CODEC_VERSION = 1
DEFAULT_DIM = 10_000
DEFAULT_CHUNK = 1250
MAX_OVERLAP = 8
ROWS_IN_CACHE = 256         # rows unpacked and gathered at once by `encode_rows` (2.5 MB of bits at the defaults)
_SEED_PREFIX = b'embeddenator-fs/codec/v'


def seeded_order(label: bytes, n: int) -> np.ndarray:
    """A permutation of range(n) fixed by `label`: indices sorted by SHA-256 counter-mode keys (stable forever)."""
    blocks = -(-n * 8 // 32)
    stream = b''.join(hashlib.sha256(label + i.to_bytes(8, 'little')).digest() for i in range(blocks))
    keys = np.frombuffer(stream, dtype='<u8', count=n)
    return np.argsort(keys, kind='stable')


@dataclass(frozen=True)
class ChunkCodec:
    """Versioned, seeded chunk codec; `encode` and `decode` work on whole batches of chunks at once."""
    dim: int = DEFAULT_DIM
    chunk_size: int = DEFAULT_CHUNK
    version: int = CODEC_VERSION
    _tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.version != CODEC_VERSION:
            raise ValueError(f'chunk codec version {self.version} is not supported '
                             f'(this build reads {CODEC_VERSION})')
        if not 1 <= self.chunk_size <= 0xFFFF or self.overlap > MAX_OVERLAP:
            raise ValueError(f'chunk_size={self.chunk_size} needs 1 <= chunk_size <= 65535 and '
                             f'8 * chunk_size <= {MAX_OVERLAP} * dim={self.dim} (at most {MAX_OVERLAP} bits per trit)')

    @property
    def overlap(self) -> int:
        """Bits superposed in one dimension: 1 (exact decode) when 8 * chunk_size <= dim."""
        return -(-8 * self.chunk_size // self.dim)

    @property
    def words(self) -> int:
        """W: words holding the dimensions of one plane."""
        return -(-self.dim // 64)

    @property
    def half(self) -> int:
        """H: words per plane including the padding to a 64-byte line (vsa.row_layout's `half`)."""
        return 8 * -(-self.words // 8)

    def describe(self) -> dict:
        """The fields that identify the codec, stored with an engram; `ChunkCodec(**describe())` rebuilds it."""
        return {'version': self.version, 'dim': self.dim, 'chunk_size': self.chunk_size}

    def _table(self, name: str):
        if not self._tables:
            label = _SEED_PREFIX + f'{self.version}/{self.dim}/{self.chunk_size}'.encode()
            terms = 8 * self.chunk_size
            if self.overlap == 1:
                slots = seeded_order(label, self.dim)[:terms]
            else:                       # a permutation of the terms folded onto the dimensions: balanced load
                slots = seeded_order(label, terms) % self.dim
            slots = slots.astype(np.intp)
            padded = self.words * 64
            gathers = []                # gathers[j][d]: the j-th term landing on dimension d, else the zero column
            order = np.argsort(slots, kind='stable')
            rank = np.empty(terms, dtype=np.intp)
            starts = np.searchsorted(slots[order], slots[order])
            rank[order] = np.arange(terms) - starts
            for j in range(self.overlap):
                gather = np.full(padded, terms, dtype=np.intp)
                gather[slots[rank == j]] = np.flatnonzero(rank == j)
                gathers.append(gather)
            used = np.zeros(padded, dtype=np.uint8)
            used[slots] = 1
            self._tables.update(slots=slots, gathers=gathers, used=used)
        return self._tables[name]

    def chunk_count(self, nbytes: int) -> int:
        """Chunks holding `nbytes` bytes (the last one may be short)."""
        return -(-nbytes // self.chunk_size)

    def chunk_matrix(self, data) -> tuple[np.ndarray, int]:
        """`data` cut into zero-padded chunks: (n, chunk_size) uint8 and the length of the last chunk."""
        raw = np.frombuffer(data, dtype=np.uint8)
        n = self.chunk_count(raw.size)
        padded = np.zeros(n * self.chunk_size, dtype=np.uint8)
        padded[: raw.size] = raw
        return padded.reshape(n, self.chunk_size), raw.size - (n - 1) * self.chunk_size

    def encode_chunks(self, chunks: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unpacked bitplanes (pos, neg), each (n, W*64) uint8, of zero-padded chunks with their true lengths."""
        n, size = chunks.shape
        bits = np.zeros((n, 8 * size + 1), dtype=np.uint8)          # last column: the zero read by unused dims
        bits[:, :-1] = np.unpackbits(chunks, axis=1)
        if self.overlap > 1:
            return self._superpose(bits, lengths)
        pos = np.take(bits, self._table('gathers')[0], axis=1)
        neg = pos ^ self._table('used')
        slots = self._table('slots')
        for i in np.flatnonzero(lengths < size):                     # short chunks: unused slots stay 0
            neg[i, slots[8 * lengths[i]:]] = 0
        return pos, neg

    def _superpose(self, bits: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Several bits per dimension: the sign of their +-1 sum (0 on a tie): lossy, repaired by corrections."""
        signed = bits.view(np.int8) * np.int8(2) - np.int8(1)
        signed[:, -1] = 0
        for i in np.flatnonzero(lengths < self.chunk_size):
            signed[i, 8 * lengths[i]: -1] = 0
        total = np.take(signed, self._table('gathers')[0], axis=1)
        for gather in self._table('gathers')[1:]:
            total += np.take(signed, gather, axis=1)
        return (total > 0).view(np.uint8), (total < 0).view(np.uint8)

    def encode_planes(self, data) -> tuple[np.ndarray, np.ndarray]:
        """Unpacked bitplanes (pos, neg) of the chunks of `data` (bytes-like)."""
        chunks, tail = self.chunk_matrix(data)
        lengths = np.full(len(chunks), self.chunk_size)
        if len(chunks):
            lengths[-1] = tail
        return self.encode_chunks(chunks, lengths)

    def pack(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """Unpacked planes -> packed rows (n, 2, H) uint64, padding words zero."""
        out = np.zeros((pos.shape[0], 2, self.half), dtype='<u8')
        out[:, 0, : self.words] = np.packbits(pos, axis=1, bitorder='little').view('<u8')
        out[:, 1, : self.words] = np.packbits(neg, axis=1, bitorder='little').view('<u8')
        return out

    def encode_rows(self, chunks: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Packed rows (n, 2, H) uint64 of zero-padded chunks with their true lengths: `pack(*encode_chunks(...))`,
        made in the packed domain when the codec is exact (the -1 plane is the +1 plane's complement on the slots
        a chunk uses), about three times as fast."""
        if self.overlap > 1:
            return self.pack(*self.encode_chunks(chunks, lengths))
        n, size = chunks.shape
        out = np.zeros((n, 2, self.half), dtype='<u8')
        gather, used = self._table('gathers')[0], self._used_words(size)
        bits = np.zeros((min(n, ROWS_IN_CACHE), 8 * size + 1), dtype=np.uint8)   # last column: the zero of unused dims
        for k in range(0, n, ROWS_IN_CACHE):    # a few MB at a time: 4-5x faster than one pass over thousands of rows
            m = min(ROWS_IN_CACHE, n - k)
            bits[:m, :-1] = np.unpackbits(chunks[k:k + m], axis=1)
            plus = np.packbits(np.take(bits[:m], gather, axis=1), axis=1, bitorder='little').view('<u8')
            out[k:k + m, 0, : self.words] = plus
            out[k:k + m, 1, : self.words] = ~plus & used
        for i in np.flatnonzero(lengths < size):                     # short chunks: only the slots they fill
            out[i, 1, : self.words] &= self._used_words(int(lengths[i]))
        return out

    def plain_rows(self, chunks: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Packed rows (n, 2, H) that score exactly as `encode_rows` does against each other, made without its
        seeded permutation: bit b of a chunk on dimension b, +1 where set, -1 where clear, 0 past its length.
        `encode_rows` is this with one fixed permutation of the dimensions applied, and a dot product does not see
        a permutation applied to both sides. About sixteen times as fast: for scanning (query), not for storage.
        Exact codec only (one bit per dimension)."""
        if self.overlap > 1:
            raise ValueError('plain rows need the exact codec (8 * chunk_size <= dim)')
        n, size = chunks.shape
        out = np.zeros((n, 2, self.half), dtype='<u8')
        planes = out.view(np.uint8).reshape(n, 2, 8 * self.half)   # 8 H bytes per plane >= dim / 8 >= size
        planes[:, 0, :size] = chunks
        np.invert(chunks, out=planes[:, 1, :size])
        short = np.flatnonzero(lengths < size)
        if short.size:                                               # no -1 past a short chunk's end
            planes[short, 1, :size] *= np.arange(size) < np.asarray(lengths)[short, None]
        return out

    def _used_words(self, length: int) -> np.ndarray:
        """The packed mask of the dimensions the first `length` bytes of a chunk fill (cached per length)."""
        key = ('used_words', length)
        if key not in self._tables:
            used = np.zeros(self.words * 64, dtype=np.uint8)
            used[self._table('slots')[: 8 * length]] = 1
            self._tables[key] = np.packbits(used, bitorder='little').view('<u8')
        return self._tables[key]

    def encode(self, data) -> np.ndarray:
        """Packed chunk vectors (n, 2, H) uint64 of `data`, n = ceil(len / chunk_size)."""
        chunks, tail = self.chunk_matrix(data)
        lengths = np.full(len(chunks), self.chunk_size)
        if len(chunks):
            lengths[-1] = tail
        return self.encode_rows(chunks, lengths)

    def decode(self, rows: np.ndarray) -> np.ndarray:
        """Chunk bytes (n, chunk_size) uint8 from packed rows: a bit is 1 where its slot holds +1.

        Exact when `overlap` is 1; a short last chunk comes back zero-padded.

        >>> from embeddenator.fs import ChunkCodec
        >>> codec = ChunkCodec(dim=1024, chunk_size=128)
        >>> rows = codec.encode(b'hello engram')
        >>> rows.shape, codec.overlap, bytes(codec.decode(rows)[0, :12])
        ((1, 2, 16), 1, b'hello engram')
        """
        rows = np.asarray(rows, dtype='<u8')
        if rows.ndim != 3 or rows.shape[1:] != (2, self.half):
            raise ValueError(f'packed chunk rows must have shape (n, 2, {self.half}), got {rows.shape}')
        plus = np.ascontiguousarray(rows[:, 0, : self.words]).view(np.uint8)
        bits = np.unpackbits(plus, axis=1, bitorder='little')
        return np.packbits(np.take(bits, self._table('slots'), axis=1), axis=1)

    def to_dense(self, rows: np.ndarray) -> np.ndarray:
        """Packed rows -> int8 (n, D) ternary vectors."""
        words = np.ascontiguousarray(rows[:, :, : self.words])
        planes = np.unpackbits(words.view(np.uint8).reshape(len(rows), 2, -1), axis=2, bitorder='little')
        planes = planes[:, :, : self.dim]
        return planes[:, 0].astype(np.int8) - planes[:, 1].astype(np.int8)
