"""Property: scan, inverted index and auto return identical results, equal to brute force, whatever happened."""
import numpy as np
from conftest import reference
from hypothesis import given, settings, strategies as st

from embeddenator import vsa
from embeddenator.retrieval import Index
from embeddenator.retrieval import index as index_module


def _vec(dim, values):
    return vsa.SparseVec.from_dense(np.array(values, np.int8))


ternary_rows = st.integers(8, 130).flatmap(lambda dim: st.tuples(
    st.just(dim),
    st.lists(st.lists(st.sampled_from([-1, 0, 0, 1]), min_size=dim, max_size=dim), min_size=1, max_size=40),
    st.lists(st.lists(st.sampled_from([-1, 0, 0, 0, 1]), min_size=dim, max_size=dim), min_size=1, max_size=4)))


@settings(max_examples=60, deadline=None)
@given(data=ternary_rows, k=st.integers(1, 45), shuffle_ids=st.booleans(),
       removals=st.lists(st.integers(0, 39), max_size=15), tail=st.integers(0, 10), seed=st.integers(0, 99))
def test_every_strategy_returns_the_brute_force_answer(data, k, shuffle_ids, removals, tail, seed):
    dim, rows, queries = data
    rng = np.random.default_rng(seed)
    ids = rng.permutation(10 * len(rows))[:len(rows)] if shuffle_ids else np.arange(len(rows))
    head = max(0, len(rows) - tail)
    index = Index(dim)
    index.add_many([_vec(dim, r) for r in rows[:head]], ids=ids[:head])
    index.refresh()                                      # postings cover the head; the rest stays a tail
    index.add_many([_vec(dim, r) for r in rows[head:]], ids=ids[head:])
    alive = np.ones(len(rows), bool)
    for r in removals:
        if r < len(rows) and alive[r]:
            index.remove(int(ids[r]))
            alive[r] = False
    dense = np.array(rows, np.int8)[alive]
    qs = [_vec(dim, q) for q in queries]
    results = {s: index.query_batch(qs, k, s) for s in ('scan', 'inverted', 'auto')}
    for i, q in enumerate(queries):
        want = reference(dense, ids[alive], np.array(q), k)
        for strategy, (got_ids, got_scores) in results.items():
            assert got_ids[i].tolist() == want[0].tolist(), strategy
            assert got_scores[i].tolist() == want[1].tolist(), strategy


def test_tail_threshold_extends_postings(monkeypatch):
    monkeypatch.setattr(index_module, '_TAIL_MIN', 4)
    index = Index(64)
    index.add_many([vsa.random(64, 6, seed=i) for i in range(40)])
    index.query(vsa.random(64, 6, seed=99), 3, 'inverted')
    assert index._post.n == 40 and not index._tail


def test_queries_extend_the_postings_once_the_tail_has_cost_as_much():
    index = Index(64)
    index.add_many([vsa.random(64, 6, seed=i) for i in range(300)])
    index.refresh()
    index.add_many([vsa.random(64, 6, seed=1000 + i) for i in range(10)])     # a tail far under its size cap
    queries = [vsa.random(64, 6, seed=2000 + i) for i in range(200)]
    index.query(queries[0], 3, 'inverted')
    assert index._post.n == 300                  # one query's bit tests cost less than extending
    before = index.query_batch(queries, 3, 'scan')
    after = index.query_batch(queries, 3, 'inverted')   # 200 queries' worth of bit tests: extend first
    assert index._post.n == 310 and not index._tail
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
