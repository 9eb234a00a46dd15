"""Export an engram's vectors for other tools, by suffix.

- `.npz`: `files_indptr/indices/signs` (CSR of the file vectors) with `file_paths`; `tree_*` (the
  sub-engrams) with `prefixes`; `root_*`; the chunk codebook `codebook_words` ((m, stride) uint64,
  `vsa.PackedMatrix` rows) and `chunk_ids`; `dim`.
- `.json`: `{"format": "embeddenator-engram-vectors/v1", "dim", "root", "files": [{path, pos, neg}],
  "tree": [{prefix, pos, neg}]}` (no codebook: it is large).
- `.npy`: the file vectors as a dense int8 (n_files, dim) matrix, rows in manifest order.

Paths are `os.fsdecode`d (names that are not UTF-8 keep their bytes as surrogate escapes).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from embeddenator.fs import Engram
from embeddenator.interop.arrays import InteropError, as_sparse, to_arrays
from embeddenator.interop.files import _write, save_npy, write_npz

ENGRAM_JSON_FORMAT = 'embeddenator-engram-vectors/v1'
SUFFIXES = ('.npz', '.json', '.npy')
CODEBOOK_BLOCK = 4096           # codebook rows made and written at once (10 MB at D = 10,000)


def _prefixed(prefix: str, arrays: dict) -> dict:
    return {f'{prefix}_{k}': v for k, v in arrays.items() if k != 'dim'}


def _codebook(engram: Engram) -> tuple:
    """(shape, dtype, blocks) of the packed codebook as (m, words) rows: a v4 engram derives its rows from the
    stored chunks, so they are made and written a block at a time, never all in memory."""
    m, words = len(engram.codebook), 2 * engram.codec.half
    blocks = (np.asarray(engram.codebook[np.arange(k, min(k + CODEBOOK_BLOCK, m))]).reshape(-1, words)
              for k in range(0, m, CODEBOOK_BLOCK))         # by index, not slice: no query cache to fill
    return (m, words), '<u8', blocks


def _vec_json(vec, dim: int) -> dict:
    sv = as_sparse(vec, dim)
    return {'pos': sv.pos.tolist(), 'neg': sv.neg.tolist()}


def export_engram(engram: Engram, path) -> dict:
    """Write the engram's vectors to `path` (format by suffix); returns what was written."""
    suffix = Path(path).suffix.lower()
    dim = engram.codec.dim
    paths = [os.fsdecode(e.path) for e in engram.files]
    prefixes = [os.fsdecode(p) for p in engram.hierarchy]
    if suffix == '.npz':
        arrays = {'dim': np.asarray(dim, np.int64), 'file_paths': np.asarray(paths, dtype=str),
                  'prefixes': np.asarray(prefixes, dtype=str), 'chunk_ids': np.asarray(engram.chunk_ids),
                  **_prefixed('files', to_arrays(engram.file_vectors, 'sparse', dim)),
                  **_prefixed('tree', to_arrays(list(engram.hierarchy.values()), 'sparse', dim)),
                  **_prefixed('root', to_arrays([engram.root], 'sparse', dim))}
        write_npz(path, arrays, {'codebook_words': _codebook(engram)})
    elif suffix == '.json':
        doc = {'format': ENGRAM_JSON_FORMAT, 'dim': dim, 'root': _vec_json(engram.root, dim),
               'files': [{'path': p, **_vec_json(v, dim)} for p, v in zip(paths, engram.file_vectors)],
               'tree': [{'prefix': p, **_vec_json(v, dim)} for p, v in zip(prefixes, engram.hierarchy.values())]}
        _write(path, json.dumps(doc, separators=(',', ':')).encode('utf-8'))
    elif suffix == '.npy':
        save_npy(path, engram.file_vectors, dim=dim)
    else:
        raise InteropError(f'{os.fspath(path)}: unknown export suffix; use one of {", ".join(SUFFIXES)}')
    return {'path': os.fspath(path), 'format': suffix[1:], 'files': len(paths), 'sub_engrams': len(prefixes),
            'chunks': int(len(engram.codebook)) if suffix == '.npz' else 0, 'dim': dim}
