"""`query` against a sharded index (a folder written by embeddenator.retrieval.shards.save_shards).

The query file is a `.npy` array of -1/0/+1 values: one vector (1-D) or one per row (2-D). The shards run where
`--scheduler` says: `auto` (a local Dask cluster of 2 worker processes when dask is installed, else this
process), `inline` (this process), `local`, or a scheduler address such as tcp://host:8786.
"""
from __future__ import annotations

import numpy as np

from embeddenator import fs, vsa
from embeddenator.cli.output import table
from embeddenator.retrieval.shards import ShardedIndex, is_sharded

__all__ = ['is_sharded', 'query']


def query(args) -> tuple[dict, list[str]]:
    """The `args.k` best rows of the sharded index `args.engram` for each vector in `args.query`."""
    try:
        dense = np.load(args.query, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise fs.FsError(f'{args.query}: cannot read the query as a .npy array of -1/0/+1 ({err})') from None
    try:
        queries = vsa.PackedMatrix.from_dense(np.atleast_2d(dense))
    except (TypeError, ValueError) as err:
        raise fs.FsError(f'{args.query}: the query must hold only -1, 0 and +1 in 1 or 2 dimensions ({err})') from None
    scheduler = getattr(args, 'scheduler', 'auto')
    with ShardedIndex(args.engram, scheduler=None if scheduler == 'inline' else scheduler) as index:
        if queries.dim != index.dim:
            raise fs.FsError(f'{args.query}: vectors of dim {queries.dim}; the index holds dim {index.dim}')
        ids, scores = index.query_batch(queries, args.k)
    result = {'index': args.engram, 'query': args.query, 'k': args.k,
              'results': [[{'id': int(i), 'score': int(s)} for i, s in zip(row_ids, row_scores)]
                          for row_ids, row_scores in zip(ids, scores)]}
    lines = []
    for q, (row_ids, row_scores) in enumerate(zip(ids, scores)):
        rows = [[int(s), int(i)] for i, s in zip(row_ids, row_scores)]
        lines += ([''] if q else []) + [f'query {q}:', *table(rows, ['score', 'id'])]
    return result, lines
