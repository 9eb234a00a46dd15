"""Sharded exact search: a codebook saved as shards, each searched where it is memory-mapped, the results merged.

A folder holds `shards.edn` (the manifest: dim, rows, generation, the shard files and their first rows),
`ids.edn` (one id per row; rows are stored in id order, so a shard's tie order, by row, is the id order) and
`shard-00000.edn`, ... (io packed codebooks of consecutive rows, uncompressed so each maps into memory without a
copy). A query batch goes to every shard; each answers its exact top k (the
kernels' `top_k_batch`), and the k best of their union are the k best overall (every row of the true top k is in
its own shard's top k), ordered by score descending then id ascending: the same answer as one exact scan.

Shards run where the scheduler says: `scheduler=None` runs them one after another in this process;
`'local'` starts a dask.distributed LocalCluster of 2 worker processes on 127.0.0.1 (the embedded default when
dask is installed: `pip install embeddenator-retrieval[dask]`); an address such as `'tcp://10.0.0.5:8786'`
joins an existing scheduler, whose workers must see the folder at the same path. Each worker opens (verifies,
maps) a shard once and keeps it. A worker lost mid-query makes dask run its shard again elsewhere (its
allowed-failures rule) or raise; the merge only runs once every shard has answered, so an answer is never partial.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Sequence

import numpy as np

from embeddenator import io, vsa

__all__ = ['ShardedIndex', 'save_shards', 'write_shards']

MANIFEST, IDS = 'shards.edn', 'ids.edn'
SCHEMA = {MANIFEST: 'embeddenator.retrieval.shards/1', IDS: 'embeddenator.retrieval.shard-ids/1',
          'shard': 'embeddenator.retrieval.shard/1'}
_OPEN: dict[tuple[str, str], tuple] = {}     # per process: (path, generation) -> (mapped shard, first row)


def save_shards(folder, source, shards: int = 2, ids=None) -> Path:
    """Write `source` (an Index, a vsa.PackedMatrix or a sequence of vectors) into `folder` as `shards` shards of
    consecutive rows; `ids` (one per row) default to the Index's ids or to 0, 1, ... Returns the folder.

    >>> import tempfile
    >>> from embeddenator import vsa
    >>> book = [vsa.random(256, 16, seed=s) for s in range(10)]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with ShardedIndex(save_shards(tmp, book, shards=3), scheduler=None) as index:
    ...         ids, scores = index.query(book[6], k=2)
    >>> int(ids[0]), int(scores[0]), len(index.shards)
    (6, 16, 3)
    """
    from embeddenator.retrieval.index import Index
    if isinstance(source, Index):
        source.compact()
        matrix, ids = source._matrix(), source.ids if ids is None else ids
    else:
        matrix = source if isinstance(source, vsa.PackedMatrix) else vsa.PackedMatrix.from_vectors(list(source))
    n, stride = len(matrix), matrix.stride
    ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
    if ids.shape != (n,) or (n and (ids.min() < 0 or len(np.unique(ids)) != n)):
        raise ValueError(f'ids must be {n} distinct non-negative integers')
    if shards < 1:
        raise ValueError(f'shards must be >= 1, got {shards}')
    words = matrix.words
    if n and np.any(np.diff(ids) < 0):         # rows in id order, so every shard's tie order is the id order
        order = np.argsort(ids, kind='stable')
        ids, words = ids[order], np.ascontiguousarray(words.reshape(n, stride)[order]).reshape(-1)
    bounds = np.linspace(0, n, shards + 1).astype(int)
    parts = (vsa.PackedMatrix.from_buffer(matrix.dim, int(r1 - r0), words[r0 * stride:r1 * stride], check=False)
             for r0, r1 in zip(bounds[:-1], bounds[1:]))
    return write_shards(folder, parts, ids, dim=matrix.dim)


def write_shards(folder, parts, ids=None, dim: int | None = None) -> Path:
    """Write consecutive runs of rows (an iterable of vsa.PackedMatrix, one per shard, made one at a time if
    need be: a codebook larger than memory) into `folder`; `ids` must increase (default 0, 1, ...)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    generation, listed, first = uuid.uuid4().hex, [], 0
    for s, part in enumerate(parts):
        if dim is not None and part.dim != dim:
            raise ValueError(f'shard {s} has dim {part.dim}, expected {dim}')
        dim, name = part.dim, f'shard-{s:05d}.edn'
        io.write_packed(folder / name, part.dim, part.words[:len(part) * part.stride], n=len(part),
                        row_words=part.stride, schema=SCHEMA['shard'], extra={'first': first, 'generation': generation})
        listed.append({'file': name, 'first': first, 'n': len(part)})
        first += len(part)
    if dim is None:
        raise ValueError('write_shards needs at least one shard (or a dim)')
    ids = np.arange(first, dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
    if ids.shape != (first,) or (first and (ids.min() < 0 or np.any(np.diff(ids) <= 0))):
        raise ValueError(f'ids must be {first} increasing non-negative integers')
    io.write_arrays(folder / IDS, {'ids': ids}, schema=SCHEMA[IDS], extra={'generation': generation})
    io.write_json(folder / MANIFEST, {'dim': dim, 'n': first, 'generation': generation, 'shards': listed},
                  schema=SCHEMA[MANIFEST])
    return folder


def is_sharded(folder) -> bool:
    """Whether `folder` holds a sharded index (its manifest)."""
    return (Path(folder) / MANIFEST).is_file()


def search_shard(path: str, generation: str, queries: 'vsa.PackedMatrix', k: int) -> tuple[np.ndarray, ...]:
    """(rows of the whole codebook, scores) of one shard's exact top k for a batch of queries: what a worker runs.
    The shard is read (checksum, rows checked) and mapped on first use, then kept by this process."""
    key = (path, generation)
    if key not in _OPEN:
        book = io.read_packed(path, schema=SCHEMA['shard'])
        if book.meta.get('generation') != generation:
            raise io.FormatError(path, io.HEADER_SIZE, 'the shard comes from another save than its manifest')
        try:
            matrix = vsa.PackedMatrix.from_buffer(book.dim, book.n, book.words)
        except ValueError as err:
            raise io.FormatError(path, io.HEADER_SIZE, f'shard rows are invalid: {err}') from None
        _OPEN[key] = (matrix, int(book.meta['first']))
    matrix, first = _OPEN[key]
    rows, scores = matrix.top_k_batch(queries, k)
    return rows + first, scores


class ShardedIndex:
    """Exact top-k over a sharded codebook (see `save_shards`), on this process or on a Dask cluster.

    `scheduler`: None (in this process), `'local'` (a LocalCluster of 2 worker processes on 127.0.0.1, closed
    with this object), `'auto'` (local when dask.distributed is installed, else in this process), a scheduler
    address, or a `distributed.Client` to use as is.
    """

    def __init__(self, folder, scheduler='auto'):
        self.folder = Path(folder).resolve()
        manifest = io.read_json(self.folder / MANIFEST, schema=SCHEMA[MANIFEST])
        self.dim, self.n, self.generation = int(manifest['dim']), int(manifest['n']), manifest['generation']
        self.shards = [(str(self.folder / s['file']), int(s['first']), int(s['n'])) for s in manifest['shards']]
        env = io.read_envelope(self.folder / IDS, io.Kind.ARRAYS)
        if env.meta.get('generation') != self.generation:
            raise io.FormatError(str(self.folder / IDS), io.HEADER_SIZE, 'ids come from another save')
        self.ids = np.array(io.unpack_arrays(env)['ids'])
        if self.ids.shape != (self.n,):
            raise io.FormatError(str(self.folder / IDS), io.HEADER_SIZE, f'{len(self.ids)} ids for {self.n} rows')
        self._client, self._cluster = _connect(scheduler)

    def __repr__(self):
        where = 'in-process' if self._client is None else self._client.scheduler.address
        return f'ShardedIndex(dim={self.dim}, items={self.n}, shards={len(self.shards)}, {where})'

    def __len__(self):
        return self.n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Release the cluster this object started (an address or a Client given is left running)."""
        if self._cluster is not None:
            self._client.close()
            self._cluster.close()
        self._client = self._cluster = None

    def query(self, vec, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The k best (ids, scores) by exact dot product, score descending then id ascending."""
        ids, scores = self.query_batch([vec], k)
        return ids[0], scores[0]

    def query_batch(self, vectors: Sequence, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """`query` for each vector: (ids, scores) of shape (len(vectors), min(k, len(self)))."""
        if int(k) < 0:
            raise ValueError(f'k must be >= 0, got {k}')
        queries = vectors if isinstance(vectors, vsa.PackedMatrix) else vsa.PackedMatrix.from_vectors(
            [v.to_packed() if not isinstance(v, vsa.PackedVec) else v for v in vectors]) if len(vectors) else None
        nq, kk = (0 if queries is None else len(queries)), min(int(k), self.n)
        if queries is not None and queries.dim != self.dim:
            raise ValueError(f'queries have dim {queries.dim}, the index {self.dim}')
        if not nq or not kk:
            return np.zeros((nq, kk), np.int64), np.zeros((nq, kk), np.int64)
        if self._client is None:
            parts = [search_shard(path, self.generation, queries, kk) for path, _, _ in self.shards]
        else:
            futures = [self._client.submit(search_shard, path, self.generation, queries, kk, pure=False)
                       for path, _, _ in self.shards]
            parts = self._client.gather(futures)
        return merge(self.ids, parts, kk)


def merge(ids: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of the shards' answers (rows of the whole codebook and scores, per query), by score descending
    then id ascending: exact, as the true top k of a union lies within the union of the parts' top k.

    >>> merge(np.array([5, 6, 7, 8]), [(np.array([[0, 1]]), np.array([[3, 1]])), (np.array([[3]]), np.array([[3]]))], 2)
    (array([[5, 8]]), array([[3, 3]]))
    """
    rows = np.concatenate([r for r, _ in parts], axis=1)
    scores = np.concatenate([s for _, s in parts], axis=1)
    found = ids[rows]
    order = np.lexsort((found, -scores), axis=-1)[:, :k]
    return np.take_along_axis(found, order, 1), np.take_along_axis(scores, order, 1)


def _connect(scheduler):
    """(client, cluster started here) for a scheduler setting; (None, None) to run in this process."""
    if scheduler is None:
        return None, None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        if scheduler == 'auto':
            return None, None
        raise ImportError(f'scheduler={scheduler!r} needs dask.distributed: pip install '
                          '"embeddenator-retrieval[dask]" (or use scheduler=None to run the shards here)') from None
    if isinstance(scheduler, Client):
        return scheduler, None
    if scheduler in ('auto', 'local'):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1',
                               dashboard_address=None)
        client = Client(cluster)
        client.run(vsa.set_num_threads, 1)      # one worker per core: the kernels' own threads would oversubscribe
        return client, cluster
    return Client(scheduler), None
