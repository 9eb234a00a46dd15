"""The next generation of an engram: the chunk table over the old rows plus only the rows an update adds.

Ingest's `assemble` builds a codebook from every chunk; an update must not touch the rows it keeps (they stay in
the segments already on disk). A reused file keeps its chunk ids; a newly read chunk takes the row of an old
chunk with the same BLAKE2b digest (live or dead: a restored file revives its rows), else a new row numbered
after the old ones (new chunks deduplicated among themselves in first-seen order). Only the new rows (their
bytes, lengths and digests) go into the appended segment; the manifest, chunk table and vectors are rebuilt
whole (small next to the rows).
"""
from __future__ import annotations

import numpy as np

from embeddenator.fs.engram import Engram
from embeddenator.fs.hierarchy import build
from embeddenator.fs.ingest import _dedupe, chunk_table, file_hash_and_vector, group_results
from embeddenator.fs.manifest import Entry
from embeddenator.fs.worker import PieceResult


def match_rows(old_digests: np.ndarray, digests: np.ndarray) -> np.ndarray:
    """For each digest, the old row holding the same one, or -1."""
    out = np.full(len(digests), -1, np.int64)
    if not len(old_digests) or not len(digests):
        return out
    keys_old = np.ascontiguousarray(old_digests).view(f'V{old_digests.shape[1]}').ravel()
    keys = np.ascontiguousarray(digests).view(f'V{digests.shape[1]}').ravel()
    order = np.argsort(keys_old, kind='stable')
    pos = np.minimum(np.searchsorted(keys_old, keys, sorter=order), len(order) - 1)
    hit = keys_old[order[pos]] == keys
    out[hit] = order[pos[hit]]
    return out


def next_generation(old: Engram, entries: list[Entry], reuse: dict, results: list[PieceResult], max_nnz: int):
    """(state, the new rows' digests, and their (frame number, start, length) in the frames of `results`) for
    `entries`: files in `reuse` (entry index -> (old entry, vector)) keep their rows, the others come from
    `results`."""
    codec, base = old.codec, int(old.codebook.shape[0])
    root_entry = next((e for e in entries if e.path == b''), None)
    results, by_entry, digests = group_results(results)
    units, starts, lengths = chunk_table(results)
    ids = match_rows(np.asarray(old.digests), digests)
    miss = np.flatnonzero(ids < 0)
    local, keep = _dedupe(digests[miss])
    ids[miss] = base + local
    parts, vectors, at, first = [], [], 0, 0
    for i, e in enumerate(entries):
        if e.kind != 'file':
            continue
        if i in reuse:
            prev, vec = reuse[i]
            chunk = np.asarray(old.chunk_ids[prev.first: prev.first + prev.count])
            e.sha256 = prev.sha256
        else:
            pieces = by_entry.get(i, [])
            n = sum(r.count for r in pieces)
            chunk = ids[at: at + n]
            at += n
            e.sha256, vec = file_hash_and_vector(e, pieces, codec, max_nnz)
        e.first, e.count = first, len(chunk)
        first += len(chunk)
        parts.append(chunk)
        vectors.append(vec)
    chunk_ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    files = [e for e in entries if e.kind == 'file']
    tree = build([e.path for e in entries if e.kind == 'dir'], ((e.parent, v) for e, v in zip(files, vectors)),
                 codec.dim, max_nnz)
    stats = {'bytes': sum(e.size for e in files),
             'recovered_bytes': int(old.stats.get('recovered_bytes', 0)) + sum(r.recovered for r in results),
             'correction_bytes': int(old.stats.get('correction_bytes', 0)), 'max_nnz': max_nnz}
    state = Engram(codec, [e for e in entries if e is not root_entry], chunk_ids, old.codebook, old.digests,
                   old.corrections, vectors, tree, stats, root_entry, store=old.store)
    new = miss[keep]
    return state, digests[new], (units[new], starts[new], lengths[new])
