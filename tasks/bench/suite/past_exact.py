"""Wall-clock groups for retrieval past exact search: approximate two-stage search, resonator, Dask shards.

Each is a probe (tasks.bench.suite.walls.Probe) timed against the exact path on the same data in the same process,
with the recall reached stated beside it, so a change that buys speed with recall shows in the detail.
"""
from __future__ import annotations

from functools import partial

from tasks.bench.suite.walls import Probe

APPROX_ITEMS, APPROX_QUERIES = 10_000, 200


def _batch(index, queries, strategy):
    index.query_batch(queries, 10, strategy)


def approx(vsa) -> list[Probe]:
    """Approximate search (defaults) against the exact scan and the exact inverted index: damaged stored rows."""
    from embeddenator.retrieval import Index, workloads   # ImportError: the worker notes the group as skipped
    book = [vsa.random(seed=i) for i in range(APPROX_ITEMS)]
    index = Index.from_vectors(book)
    index.refresh()
    queries, truth = workloads.cleanup(book, APPROX_QUERIES, seed=1)
    recall = workloads.recall(index.query_batch(queries, 10, 'approx')[0], truth)
    label = f'{APPROX_QUERIES} approximate top-10 queries (damaged rows), {APPROX_ITEMS:,} items'
    subject = partial(_batch, index, queries, 'approx')
    return [Probe('approx/scan/10k', label, 'time ratio to the exact scan', subject,
                  partial(_batch, index, queries, 'scan'), 5, ('queries', APPROX_QUERIES), (('recall', recall),)),
            Probe('approx/inverted/10k', label, 'time ratio to the exact inverted index', subject,
                  partial(_batch, index, queries, 'inverted'), 5, ('queries', APPROX_QUERIES), (('recall', recall),))]


RESONATOR_ROWS, RESONATOR_DIM, RESONATOR_TRIALS = 100, 10_000, 5


def resonator(vsa) -> list[Probe]:
    """One factorisation of a bound triple by the compiled resonator against the plain numpy oracle (float32)."""
    import numpy as np
    from embeddenator.retrieval import Resonator   # ImportError: the worker notes the group as skipped
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'components' / 'retrieval' / 'tests'))
    import resonator_oracle
    rng = np.random.default_rng(0)
    dense = [rng.choice(np.array([-1, 1], np.int8), (RESONATOR_ROWS, RESONATOR_DIM)) for _ in range(3)]
    res = Resonator([vsa.PackedMatrix.from_dense(d) for d in dense])
    f32 = [d.astype(np.float32) for d in dense]
    xs = [np.prod([d[i] for d, i in zip(dense, rng.integers(0, RESONATOR_ROWS, 3))], axis=0)
          for _ in range(RESONATOR_TRIALS)]
    packed = [vsa.PackedVec.from_dense(x) for x in xs]
    return [Probe('resonator/factorize/3x100', f'{RESONATOR_TRIALS} factorisations, 3 x {RESONATOR_ROWS} rows, '
                  f'dim {RESONATOR_DIM:,}', 'time ratio to numpy float32', partial(_each, res.factorize, packed),
                  partial(_each, partial(resonator_oracle.factorize, books=f32), xs), 5,
                  ('factorisations', RESONATOR_TRIALS))]


def _each(fn, items):
    for item in items:
        fn(item)


SHARD_ROWS, SHARD_COUNT, SHARD_QUERIES = 40_000, 4, 16


def shards(vsa) -> list[Probe]:
    """A batch of queries over shards on a LocalCluster of 2 worker processes against one in-process scan.

    The cluster stays up while the probe worker serves (closed when it exits): each round times queries only.
    """
    import atexit
    import shutil
    import tempfile
    from dask import distributed  # noqa: F401  (the optional extra; ImportError: the group is noted as skipped)
    from embeddenator.retrieval.shards import ShardedIndex, save_shards
    book = vsa.PackedMatrix.from_vectors([vsa.random(seed=i) for i in range(SHARD_ROWS)])
    queries = [vsa.random(seed=10**8 + i) for i in range(SHARD_QUERIES)]
    tmp = tempfile.mkdtemp(prefix='bench-shards-')
    index = ShardedIndex(save_shards(tmp, book, SHARD_COUNT), 'local').__enter__()
    atexit.register(shutil.rmtree, tmp, True)
    atexit.register(index.__exit__, None, None, None)
    index.query_batch(queries[:1], 10)           # each worker opens its shards once
    return [Probe('shards/query/40k', f'{SHARD_QUERIES} queries, {SHARD_ROWS:,} rows in {SHARD_COUNT} shards on '
                  '2 Dask workers', 'time ratio to one in-process scan', partial(index.query_batch, queries, 10),
                  partial(book.top_k_batch, queries, 10), 5, ('queries', SHARD_QUERIES))]
