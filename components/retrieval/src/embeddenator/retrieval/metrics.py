"""What retrieval reports through embeddenator.obs: counts and durations of its main operations."""
from embeddenator import obs

ITEMS = obs.gauge('retrieval_items', 'live rows in the most recently changed index')
ADDED = obs.counter('retrieval_added_total', 'vectors added to indexes')
REMOVED = obs.counter('retrieval_removed_total', 'vectors removed from indexes')


def queries(strategy: str):
    """The counter of queries answered with `strategy` (scan or inverted)."""
    return obs.counter('retrieval_queries_total', 'queries answered, by strategy', strategy=strategy)


def timer(operation: str):
    """Duration of one operation: add, remove, query, query_batch, postings, compact, save, load, rebuild."""
    return obs.timer('retrieval_seconds', 'duration of retrieval operations', operation=operation)
