"""VSA -> retrieval: the Index answers exactly what the kernels' dot products say."""
import numpy as np

from embeddenator import vsa
from embeddenator.retrieval import Index


def test_index_top_k_matches_brute_force_dot_products():
    vectors = [vsa.random(seed=s) for s in range(300)]
    queries = [vsa.bundle(vectors[s], vsa.random(seed=1000 + s)) for s in range(0, 300, 37)]
    index = Index.from_vectors(vectors)
    for q in queries:
        ids, scores = index.query(q, k=5)
        brute = sorted(((-vsa.dot(q, v), i) for i, v in enumerate(vectors)))[:5]
        assert ids.tolist() == [i for _, i in brute] and scores.tolist() == [-s for s, _ in brute]


def test_packed_matrix_and_index_agree_and_strategies_agree():
    vectors = [vsa.random(seed=s).to_packed() for s in range(200)]
    matrix = vsa.PackedMatrix.from_vectors(vectors)
    index = Index.from_vectors(vectors)
    q = vsa.bundle_many([vectors[3], vectors[7], vectors[11]])
    m_ids, m_scores = matrix.top_k(q, 3)
    for strategy in ('scan', 'inverted'):
        ids, scores = index.query(q, k=3, strategy=strategy)
        assert ids.tolist() == m_ids.tolist() and scores.tolist() == m_scores.tolist()
    assert set(m_ids.tolist()) == {3, 7, 11}


def test_bound_pairs_are_retrieved_after_unbinding():
    keys = [vsa.random(seed=s) for s in range(50)]
    values = [vsa.random(seed=500 + s) for s in range(50)]
    index = Index.from_vectors(values)
    for i in (0, 17, 49):
        pair = vsa.bind(keys[i], values[i])
        ids, _ = index.query(vsa.bind(keys[i], pair), k=1)
        assert ids[0] == i
    assert np.array_equal(vsa.random(seed=3).to_dense(), vsa.random(seed=3).to_dense())
