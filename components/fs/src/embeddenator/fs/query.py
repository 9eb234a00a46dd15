"""Query: which stored files and chunks look most like some bytes, by exact dot product.

The query bytes are encoded with the engram's own codec. Files are ranked through an `embeddenator.retrieval`
Index over the stored file vectors (sparse, thinned bundles of chunks); chunks are ranked by the kernels' top-k
over the codebook, block by block of rows, best score per codebook row, ties by the smaller row. For a v4 engram
with the exact codec the rows are made from the stored chunks without the codec's permutation, and so is the
query (`ChunkCodec.plain_rows`: the same scores, a sixteenth of the work); earlier formats are scanned through a
zero-copy `vsa.PackedMatrix` view of their memory-mapped rows. Similarity is positional: equal bytes at equal
offsets within a chunk.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from embeddenator import vsa
from embeddenator.fs.engram import Engram
from embeddenator.fs.errors import FsError
from embeddenator.fs.hierarchy import MAX_NNZ, Sparse, thin
from embeddenator.fs.store import DerivedRows

BLOCK_ROWS = 8192               # codebook rows searched at once (21 MB at D = 10,000)


@dataclass(frozen=True)
class Hit:
    path: str           # os.fsdecode of the stored path
    score: int          # dot product with the query (files: file vectors; chunks: the best query chunk)
    chunk: int = -1     # chunks: index of the chunk within the file
    offset: int = -1    # chunks: byte offset of the chunk within the file

    def to_json(self) -> dict:
        """The hit as plain data; `chunk` and `offset` appear only for chunk hits."""
        return {k: v for k, v in asdict(self).items() if not (k in ('chunk', 'offset') and v < 0)}


def to_vsa(vec: Sparse, dim: int) -> 'vsa.SparseVec':
    """The same vector as a `vsa.SparseVec` of dimension `dim`, for the kernels and retrieval."""
    return vsa.SparseVec(dim, vec.idx[vec.sign > 0].astype(np.int64), vec.idx[vec.sign < 0].astype(np.int64))


def _query_bytes(what) -> bytes:
    if isinstance(what, (bytes, bytearray, memoryview)):
        return bytes(what)
    try:
        with open(what, 'rb') as fh:
            return fh.read()
    except OSError as err:
        raise FsError(f'{os.fspath(what)}: cannot read the query ({err.strerror}); check the path') from None


def file_vector(engram: Engram, data: bytes) -> Sparse:
    """The query's file vector, made exactly as ingest makes a stored file's."""
    pos, neg = engram.codec.encode_planes(data)
    total = (pos.view(np.int8) - neg.view(np.int8)).sum(axis=0, dtype=np.int32)[: engram.codec.dim]
    return thin(total, int(engram.stats.get('max_nnz', MAX_NNZ)))


def rank_files(engram: Engram, qvec: Sparse, k: int) -> list[Hit]:
    """The k stored files whose vectors have the highest dot product with `qvec`; [] if nothing can match."""
    from embeddenator.retrieval import Index
    files = engram.files
    if not files or not qvec.nnz:
        return []
    index = Index.from_vectors([to_vsa(v, engram.codec.dim) for v in engram.file_vectors], dim=engram.codec.dim)
    ids, scores = index.query(to_vsa(qvec, engram.codec.dim), k=k)
    return [Hit(os.fsdecode(files[i].path), int(s)) for i, s in zip(ids, scores)]


def scanned_rows(engram: Engram, data: bytes) -> tuple[object, np.ndarray]:
    """(the codebook rows a chunk query scans, the query's chunks as rows like them): the plain rows of a v4
    engram with the exact codec (same scores, no permutation to apply), else the codebook and the codec's rows."""
    codec, book = engram.codec, engram.codebook
    if isinstance(book, DerivedRows) and codec.overlap == 1:
        chunks, tail = codec.chunk_matrix(data)
        lengths = np.full(len(chunks), codec.chunk_size)
        if len(chunks):
            lengths[-1] = tail
        return book.plain(), codec.plain_rows(chunks, lengths)
    return book, codec.encode(data)


def rank_chunks(engram: Engram, rows: np.ndarray, k: int, book=None) -> list[Hit]:
    """The k live codebook chunks scoring highest against any of the query's packed chunk `rows`, each reported
    at its first use (file, chunk index, byte offset). `book` holds the rows scanned (default: the codebook)."""
    book = engram.codebook if book is None else book
    dim, live = engram.codec.dim, np.unique(np.asarray(engram.chunk_ids))
    if not live.size or not len(rows):
        return []
    queries = vsa.PackedMatrix.from_buffer(dim, len(rows), np.ascontiguousarray(rows).reshape(-1), check=False)
    best: dict[int, int] = {}
    for lo in range(0, len(book), BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, len(book))
        block = live[np.searchsorted(live, lo): np.searchsorted(live, hi)]
        if not block.size:
            continue
        if block.size == hi - lo:
            words = np.ascontiguousarray(book[lo:hi]).reshape(-1)
        else:                                   # dead rows (removed or replaced files) are not searched
            words = np.ascontiguousarray(book[block]).reshape(-1)
        book = vsa.PackedMatrix.from_buffer(dim, block.size, words, check=False)
        ids, scores = book.top_k_batch(queries, min(k, block.size))
        for row, score in zip(block[ids].reshape(-1).tolist(), scores.reshape(-1).tolist()):
            best[row] = max(score, best.get(row, score))
    top = sorted(best.items(), key=lambda rs: (-rs[1], rs[0]))[:k]
    where = _first_use(engram, [r for r, _ in top])
    return [Hit(os.fsdecode(where[r][0]), s, where[r][1], where[r][2]) for r, s in top]


def _first_use(engram: Engram, rows: list[int]) -> dict[int, tuple[bytes, int, int]]:
    """For codebook rows, the first (file path, chunk index, byte offset) that uses each."""
    table = np.asarray(engram.chunk_ids)
    out = {}
    for row in rows:
        g = int(np.flatnonzero(table == row)[0])
        entry = next(e for e in engram.files if e.first <= g < e.first + e.count)
        out[row] = (entry.path, g - entry.first, entry.chunk_offset(g - entry.first, engram.codec.chunk_size))
    return out


def query(engram: Engram, what, k: int = 5) -> dict:
    """{'files': [Hit], 'chunks': [Hit]}: the k stored files and chunks most similar to `what` (bytes or a path).

    >>> import os, tempfile
    >>> from embeddenator.fs import ChunkCodec, ingest, query
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name, data in (('greeting.txt', b'hello engram'), ('table.bin', bytes(range(256)))):
    ...         with open(os.path.join(tmp, name), 'wb') as out:
    ...             _ = out.write(data)
    ...     engram = ingest(tmp, codec=ChunkCodec(dim=1024, chunk_size=128), workers=1)
    >>> hits = query(engram, b'hello', k=1)
    >>> hits['files'][0].to_json(), hits['chunks'][0].offset
    ({'path': 'greeting.txt', 'score': 40}, 0)
    """
    if k < 1:
        raise FsError(f'k={k}: ask for at least one result')
    data = _query_bytes(what)
    if not data:
        raise FsError('the query is empty: give at least one byte')
    book, rows = scanned_rows(engram, data)
    return {'files': rank_files(engram, file_vector(engram, data), k), 'chunks': rank_chunks(engram, rows, k, book)}
