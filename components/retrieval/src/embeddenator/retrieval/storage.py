"""Saving and loading an index through embeddenator.io: a folder of three checksummed files.

    index.edn     arrays  ids (int64, one per row); metadata dim, n, next_id, generation
    codebook.edn  packed  the rows (vsa.PackedMatrix layout), uncompressed so loading maps it without a copy
    postings.edn  arrays  the inverted index (CSR by dimension for +1 and -1)

All three carry the same random `generation`, written codebook first and index last: a save interrupted
between files is detected as a mismatch, never mixed silently. Damaged postings can be recomputed from the
codebook (`Index.rebuild`).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from embeddenator import io, vsa
from embeddenator.retrieval import metrics
from embeddenator.retrieval import postings as lists
from embeddenator.retrieval.postings import PostingLists

INDEX, CODEBOOK, POSTINGS = 'index.edn', 'codebook.edn', 'postings.edn'
SCHEMA = {INDEX: 'embeddenator.retrieval.index/1', CODEBOOK: 'embeddenator.retrieval.codebook/1',
          POSTINGS: 'embeddenator.retrieval.postings/1'}
_REBUILD_HINT = 'the postings can be recomputed from the codebook with Index.rebuild(folder)'


def save(index, folder) -> Path:
    """Write `index` (compacted, postings up to date) into `folder`, replacing each file atomically."""
    folder = Path(folder)
    with metrics.timer('save'):
        folder.mkdir(parents=True, exist_ok=True)
        index.compact()
        index.refresh()
        n, words = index._n, index._words[:index._n * index._stride]
        meta = {'dim': index.dim, 'n': n, 'generation': uuid.uuid4().hex}
        io.write_packed(folder / CODEBOOK, index.dim, np.ascontiguousarray(words), n=n, row_words=index._stride,
                        schema=SCHEMA[CODEBOOK], extra=meta)
        _write_postings(folder, index._post, meta)
        io.write_arrays(folder / INDEX, {'ids': index._ids[:n]}, schema=SCHEMA[INDEX],
                        extra={**meta, 'next_id': index._next_id})
    return folder


def load(folder, rebuild: bool = False) -> tuple[dict, np.ndarray, np.ndarray, PostingLists]:
    """(metadata, codebook words, ids, postings) read from `folder`, the codebook memory-mapped;
    io.FormatError names any damaged file. `rebuild` recomputes the postings and rewrites their file."""
    folder = Path(folder)
    with metrics.timer('rebuild' if rebuild else 'load'):
        ids, meta = _read_ids(folder)
        words = _read_codebook(folder, meta)
        if rebuild:
            postings = postings_from_codebook(meta['dim'], len(ids), words)
            _write_postings(folder, postings, _link(meta))
        else:
            postings = _read_postings(folder, meta)
    return meta, words, ids, postings


def postings_from_codebook(dim: int, n: int, words: np.ndarray) -> PostingLists:
    """The inverted index recomputed from the packed rows."""
    return lists.from_codebook(dim, n, words)


def _link(meta: dict) -> dict:
    return {k: meta[k] for k in ('dim', 'n', 'generation')}


def _write_postings(folder: Path, postings: PostingLists, meta: dict) -> None:
    io.write_arrays(folder / POSTINGS, lists.arrays(postings), schema=SCHEMA[POSTINGS], extra=_link(meta))


def _expect(path: Path, meta: dict, want: dict, offset: int = io.HEADER_SIZE) -> None:
    for key, value in want.items():
        if meta.get(key) != value:
            raise io.FormatError(path, offset, f'{key} is {meta.get(key)!r}, the index says {value!r}: the files '
                                               'come from different saves')


def _read_arrays(path: Path, name: str) -> io.Envelope:
    env = io.read_envelope(path, io.Kind.ARRAYS, use_mmap=True)
    if env.meta.get('schema') != SCHEMA[name]:
        raise io.FormatError(path, io.HEADER_SIZE, f'schema is {env.meta.get("schema")!r}, expected {SCHEMA[name]!r}')
    return env


def _read_ids(folder: Path) -> tuple[np.ndarray, dict]:
    path = folder / INDEX
    env = _read_arrays(path, INDEX)
    meta = env.meta
    ids = io.unpack_arrays(env).get('ids')
    ok = (isinstance(meta.get('dim'), int) and meta['dim'] > 0 and isinstance(meta.get('n'), int)
          and isinstance(meta.get('next_id'), int) and isinstance(meta.get('generation'), str))
    if not ok or ids is None or ids.dtype != np.int64 or ids.shape != (meta['n'],):
        raise io.FormatError(path, io.HEADER_SIZE, 'metadata (dim, n, next_id, generation) or ids are malformed')
    if len(ids) and (ids.min() < 0 or ids.max() >= meta['next_id'] or len(np.unique(ids)) != len(ids)):
        raise io.FormatError(path, env.payload_offset, 'ids must be distinct, non-negative and below next_id')
    return np.array(ids), meta


def _read_codebook(folder: Path, meta: dict) -> np.ndarray:
    path = folder / CODEBOOK
    book = io.read_packed(path, schema=SCHEMA[CODEBOOK])
    _expect(path, book.meta, _link(meta))
    _, _, stride = vsa.row_layout(meta['dim'])
    if book.dim != meta['dim'] or book.row_words != stride:
        raise io.FormatError(path, io.HEADER_SIZE, f'rows of {book.row_words} words do not fit dim {book.dim}')
    try:
        vsa.PackedMatrix.from_buffer(book.dim, book.n, book.words, check=True)
    except ValueError as err:
        raise io.FormatError(path, io.HEADER_SIZE, f'codebook rows are invalid: {err}') from None
    return book.words


def _read_postings(folder: Path, meta: dict) -> PostingLists:
    path = folder / POSTINGS
    try:
        env = _read_arrays(path, POSTINGS)
        _expect(path, env.meta, _link(meta))
        arrays = io.unpack_arrays(env)
    except io.FormatError as err:
        raise io.FormatError(err.path, err.offset, f'{err.reason}; {_REBUILD_HINT}') from None
    try:
        return lists.from_arrays(meta['dim'], meta['n'], arrays)
    except ValueError as err:
        raise io.FormatError(path, io.HEADER_SIZE, f'{err}; {_REBUILD_HINT}') from None
