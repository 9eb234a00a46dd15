"""Approximate two-stage search: exact scores for what it returns, and recall against the exact path."""
import numpy as np
import pytest
from conftest import reference
from hypothesis import given, settings, strategies as st

from embeddenator import vsa
from embeddenator.retrieval import Approx, Index, workloads
from embeddenator.retrieval.approx import probe_dims


@pytest.fixture(scope='module')
def book():
    vectors = [vsa.random(seed=i) for i in range(3000)]
    index = Index.from_vectors(vectors)
    return vectors, index


@pytest.mark.parametrize('kind', ['cleanup', 'bundles'])
def test_recall_of_planted_answers_matches_the_exact_path(book, kind):
    vectors, index = book
    queries, truth = getattr(workloads, kind)(vectors, 100, seed=5)
    exact = workloads.recall(index.query_batch(queries, 10)[0], truth)
    approx = workloads.recall(index.query_batch(queries, 10, 'approx')[0], truth)
    assert exact == 1.0
    assert approx >= 0.95


def test_returned_scores_are_exact_and_ordered(book):
    vectors, index = book
    queries = workloads.uniform(index.dim, 20, seed=1)
    ids, scores = index.query_batch(queries, 10, 'approx')
    for q, row_ids, row_scores in zip(queries, ids, scores):
        assert [q.dot(vectors[int(i)]) for i in row_ids] == row_scores.tolist()
        assert list(zip(-row_scores, row_ids)) == sorted(zip(-row_scores, row_ids))


def test_uniform_queries_lose_recall_and_more_candidates_win_it_back(book):
    """The hard case: no planted answer, so what the first stage misses is lost; a deeper first cut helps."""
    _, index = book
    queries = workloads.uniform(index.dim, 30, seed=2)
    exact = index.query_batch(queries, 10)[1]

    def overlap(settings):
        ids = index.query_batch(queries, 10, settings)[0]
        return workloads.overlap(np.array([[q.dot(index.vector(i)) for i in row] for q, row in zip(queries, ids)]),
                                 exact)
    assert overlap(Approx(1 / 16, 10)) < overlap(Approx(1 / 4, 300)) <= 1.0


ternary_rows = st.integers(8, 100).flatmap(lambda dim: st.tuples(
    st.just(dim),
    st.lists(st.lists(st.sampled_from([-1, 0, 0, 1]), min_size=dim, max_size=dim), min_size=1, max_size=30),
    st.lists(st.lists(st.sampled_from([-1, 0, 0, 0, 1]), min_size=dim, max_size=dim), min_size=1, max_size=4)))


@settings(max_examples=40, deadline=None)
@given(data=ternary_rows, k=st.integers(1, 35), shuffle_ids=st.booleans(),
       removals=st.lists(st.integers(0, 29), max_size=10), tail=st.integers(0, 8), seed=st.integers(0, 99))
def test_probing_everything_is_exact(data, k, shuffle_ids, removals, tail, seed):
    """fraction=1 with every row a candidate is exact search, whatever the ids, removals and unindexed rows."""
    dim, rows, queries = data
    rng = np.random.default_rng(seed)
    ids = rng.permutation(10 * len(rows))[:len(rows)] if shuffle_ids else np.arange(len(rows))
    vecs = [vsa.SparseVec.from_dense(np.array(r, np.int8)) for r in rows]
    head = max(0, len(rows) - tail)
    index = Index(dim)
    index.add_many(vecs[:head], ids=ids[:head])
    index.refresh()
    index.add_many(vecs[head:], ids=ids[head:])
    alive = np.ones(len(rows), bool)
    for r in set(r for r in removals if r < len(rows)):
        index.remove(int(ids[r]))
        alive[r] = False
    dense = np.array(rows, np.int8)[alive]
    for q in queries:
        qv = vsa.SparseVec.from_dense(np.array(q, np.int8))
        got = index.query(qv, k, strategy=Approx(1.0, len(rows)))
        want = reference(dense, ids[alive], np.array(q, np.int8), k)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_probe_dims_are_the_rarest():
    rows = np.array([[1, 1, 0, 0, 1], [1, -1, 0, 1, 0], [-1, 0, 0, 1, 0]], np.int8)
    index = Index.from_vectors([vsa.SparseVec.from_dense(r) for r in rows])
    index.refresh()
    assert probe_dims(index._post, 0.4).tolist() == [2, 4]       # 0 and 1 postings; 3 has 2, ties go low first


@pytest.mark.parametrize('bad, message', [(dict(fraction=0), 'fraction'), (dict(fraction=1.5), 'fraction'),
                                          (dict(candidates=0), 'candidates'), (dict(candidates=2.5), 'candidates')])
def test_settings_are_checked(bad, message):
    with pytest.raises(ValueError, match=message):
        Approx(**bad)


def test_an_unknown_strategy_names_the_choices():
    index = Index.from_vectors([vsa.random(64, 4, seed=1)])
    with pytest.raises(ValueError, match="'approx'"):
        index.query(vsa.random(64, 4, seed=2), strategy='fast')
