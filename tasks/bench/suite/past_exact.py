"""Wall-clock groups for retrieval past exact search: approximate two-stage search, resonator, Dask shards.

Each metric is a time ratio against the exact path on the same data in the same run (tasks.bench.suite.timing),
with the recall reached stated beside it, so a change that buys speed with recall shows in the detail.
"""
from __future__ import annotations

from functools import partial

from tasks.bench.suite.timing import interleaved
from tasks.bench.suite.walls import metric

APPROX_ITEMS, APPROX_QUERIES = 10_000, 200


def _batch(index, queries, strategy):
    index.query_batch(queries, 10, strategy)


def approx() -> tuple[list[dict], str | None]:
    """Approximate search (defaults) against the exact scan and the exact inverted index: damaged stored rows."""
    try:
        from embeddenator import vsa
        from embeddenator.retrieval import Index, workloads
    except ImportError as err:
        return [], f'skipped: {err}'
    book = [vsa.random(seed=i) for i in range(APPROX_ITEMS)]
    index = Index.from_vectors(book)
    index.refresh()
    queries, truth = workloads.cleanup(book, APPROX_QUERIES, seed=1)
    recall = workloads.recall(index.query_batch(queries, 10, 'approx')[0], truth)
    t = interleaved(partial(_batch, index, queries, 'approx'), partial(_batch, index, queries, 'scan'), rounds=5,
                    inverted=partial(_batch, index, queries, 'inverted'))
    label = f'{APPROX_QUERIES} approximate top-10 queries (damaged rows), {APPROX_ITEMS:,} items'
    return [metric('approx/scan/10k', label, t['reference'], 'time ratio to the exact scan', recall=recall),
            metric('approx/inverted/10k', label, t['inverted'], 'time ratio to the exact inverted index',
                   recall=recall)], None


RESONATOR_ROWS, RESONATOR_DIM, RESONATOR_TRIALS = 100, 10_000, 5


def resonator() -> tuple[list[dict], str | None]:
    """One factorisation of a bound triple by the compiled resonator against the plain numpy oracle (float32)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'components' / 'retrieval' / 'tests'))
    try:
        import numpy as np
        import resonator_oracle             # the plain numpy resonator the tests check against
        from embeddenator import vsa
        from embeddenator.retrieval import Resonator
    except ImportError as err:
        return [], f'skipped: {err}'
    rng = np.random.default_rng(0)
    dense = [rng.choice(np.array([-1, 1], np.int8), (RESONATOR_ROWS, RESONATOR_DIM)) for _ in range(3)]
    res = Resonator([vsa.PackedMatrix.from_dense(d) for d in dense])
    f32 = [d.astype(np.float32) for d in dense]
    xs = [np.prod([d[i] for d, i in zip(dense, rng.integers(0, RESONATOR_ROWS, 3))], axis=0)
          for _ in range(RESONATOR_TRIALS)]
    packed = [vsa.PackedVec.from_dense(x) for x in xs]
    t = interleaved(partial(_each, res.factorize, packed), partial(_each, partial(resonator_oracle.factorize,
                                                                                  books=f32), xs), rounds=5)
    return [metric('resonator/factorize/3x100', f'{RESONATOR_TRIALS} factorisations, 3 x {RESONATOR_ROWS} rows, '
                   f'dim {RESONATOR_DIM:,}', t, 'time ratio to numpy float32')], None


def _each(fn, items):
    for item in items:
        fn(item)


SHARD_ROWS, SHARD_COUNT, SHARD_QUERIES = 40_000, 4, 16


def shards() -> tuple[list[dict], str | None]:
    """A batch of queries over shards on a LocalCluster of 2 worker processes against one in-process scan."""
    try:
        from embeddenator import vsa
        from embeddenator.retrieval.shards import ShardedIndex, save_shards
        from dask import distributed  # noqa: F401  (the optional extra)
    except ImportError as err:
        return [], f'skipped: {err}'
    import tempfile
    book = vsa.PackedMatrix.from_vectors([vsa.random(seed=i) for i in range(SHARD_ROWS)])
    queries = [vsa.random(seed=10**8 + i) for i in range(SHARD_QUERIES)]
    with tempfile.TemporaryDirectory() as tmp, ShardedIndex(save_shards(tmp, book, SHARD_COUNT), 'local') as index:
        index.query_batch(queries[:1], 10)           # each worker opens its shards once
        t = interleaved(partial(index.query_batch, queries, 10), partial(book.top_k_batch, queries, 10), rounds=5)
    return [metric('shards/query/40k', f'{SHARD_QUERIES} queries, {SHARD_ROWS:,} rows in {SHARD_COUNT} shards on '
                   '2 Dask workers', t, 'time ratio to one in-process scan')], None
