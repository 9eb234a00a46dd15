import numpy as np
import pytest
from conftest import reference, ternary

from embeddenator import vsa
from embeddenator.retrieval import Index


@pytest.fixture
def small(rng):
    vecs = [ternary(rng, 256, 24) for _ in range(120)]
    return Index.from_vectors(vecs), vecs


@pytest.mark.parametrize('strategy', ['auto', 'scan', 'inverted'])
def test_query_matches_brute_force(small, rng, strategy):
    index, vecs = small
    dense = np.stack([v.to_dense() for v in vecs])
    for _ in range(10):
        q = ternary(rng, 256, int(rng.integers(1, 200)))
        ids, scores = index.query(q, k=7, strategy=strategy)
        want = reference(dense, np.arange(len(vecs)), q.to_dense(), 7)
        assert np.array_equal(ids, want[0]) and np.array_equal(scores, want[1])


def test_ties_break_by_id_ascending():
    v = vsa.SparseVec(64, np.array([1]), np.array([2]))
    index = Index(64)
    index.add_many([v] * 5, ids=[40, 10, 30, 20, 50])
    for strategy in ('scan', 'inverted'):
        assert index.query(v, 3, strategy)[0].tolist() == [10, 20, 30]


def test_ids_are_stable_across_removal_and_reuse(small):
    index, vecs = small
    index.remove(3)
    assert 3 not in index and len(index) == 119
    assert index.query(vecs[3], 1)[0][0] != 3
    assert index.add(vecs[3], id=3) == 3
    assert index.query(vecs[3], 1)[0].tolist() == [3]
    assert index.add(vecs[0]) == 120                 # fresh ids continue after the largest ever given


def test_vector_returns_the_stored_row(small):
    index, vecs = small
    assert np.array_equal(index.vector(17).to_dense(), vecs[17].to_dense())


def test_packed_and_block_sparse_inputs(small):
    index, vecs = small
    want = index.query(vecs[9], 4)
    for form in (vecs[9].to_packed(), vecs[9].to_block_sparse()):
        got = index.query(form, 4)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_query_batch_accepts_a_packed_matrix(small):
    index, vecs = small
    ids, scores = index.query_batch(vsa.PackedMatrix.from_vectors(vecs[:5]), k=2)
    assert ids.shape == (5, 2) and ids[:, 0].tolist() == [0, 1, 2, 3, 4]


def test_k_larger_than_index_and_zero(small):
    index, vecs = small
    assert len(index.query(vecs[0], 1000)[0]) == 120
    assert index.query(vecs[0], 0)[0].shape == (0,)
    assert Index(256).query(vecs[0], 5)[0].shape == (0,)


def test_auto_picks_inverted_for_sparse_and_scan_for_dense(rng):
    index = Index.from_vectors([ternary(rng, 4096, 40) for _ in range(3000)])
    assert index.choose(ternary(rng, 4096, 8)) == 'inverted'
    assert index.choose(ternary(rng, 4096, 4000)) == 'scan'


@pytest.mark.parametrize('call, error, match', [
    (lambda ix, v: ix.query(v, 3, strategy='fast'), ValueError, 'strategy'),
    (lambda ix, v: ix.query(v, -1), ValueError, 'k must be'),
    (lambda ix, v: ix.query(vsa.random(dim=128, nnz=8), 3), ValueError, 'dim 128'),
    (lambda ix, v: ix.add(v, id=5), ValueError, 'already'),
    (lambda ix, v: ix.add_many([v, v], ids=[500, 500]), ValueError, 'distinct'),
    (lambda ix, v: ix.add(v, id=-2), ValueError, 'non-negative'),
    (lambda ix, v: ix.remove(999), KeyError, '999'),
    (lambda ix, v: ix.add([1, 2]), TypeError, 'vsa vector'),
])
def test_bad_calls_say_what_is_wrong(small, call, error, match):
    index, vecs = small
    with pytest.raises(error, match=match):
        call(index, vecs[0])


def test_compaction_keeps_ids_and_results(small, rng):
    index, vecs = small
    for i in range(0, 120, 2):
        index.remove(i)
    q = ternary(rng, 256, 30)
    before = index.query_batch([q], 10, 'scan')
    index.compact()
    assert sorted(index.ids.tolist()) == list(range(1, 120, 2))
    for strategy in ('scan', 'inverted'):
        after = index.query_batch([q], 10, strategy)
        assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def test_operations_are_reported_through_obs(small):
    from embeddenator import obs
    index, vecs = small
    before = obs.counter('retrieval_queries_total', strategy='inverted').value
    index.query_batch(vecs[:3], 2, 'inverted')
    assert obs.counter('retrieval_queries_total', strategy='inverted').value == before + 3
    assert obs.histogram('retrieval_seconds', operation='query_batch').count >= 1
    assert 'retrieval_seconds_bucket' in obs.to_prometheus()


def test_empty_queries_score_zero_everywhere(small):
    index, vecs = small
    empty = vsa.SparseVec(256, np.zeros(0, np.int64), np.zeros(0, np.int64))
    for strategy in ('scan', 'inverted'):
        ids, scores = index.query_batch([empty, vecs[4], empty], 3, strategy)
        assert ids[0].tolist() == [0, 1, 2] and scores[0].tolist() == [0, 0, 0]
        assert ids[1][0] == 4 and ids[2].tolist() == [0, 1, 2]
