"""Wall-clock groups for retrieval past exact search: approximate two-stage search (more groups join it here).

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
