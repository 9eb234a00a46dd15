import numpy as np
import pytest

from embeddenator import interop, vsa


def test_keeps_the_top_k_magnitudes_as_signs():
    x = np.array([0.1, -3.0, 0.0, 2.0, -0.5, 2.0])
    (vec,) = interop.quantize(x, k=3)
    assert vec.pos.tolist() == [3, 5] and vec.neg.tolist() == [1]


def test_ties_go_to_the_smaller_index_and_zeros_are_never_kept():
    (vec,) = interop.quantize(np.array([1.0, -1.0, 1.0, 0.0]), k=2)
    assert vec.pos.tolist() == [0] and vec.neg.tolist() == [1]
    (vec,) = interop.quantize(np.zeros(8), k=4)
    assert vec.nnz == 0


def test_quantizing_a_ternary_vector_gives_it_back():
    vectors = [vsa.random(dim=2000, nnz=60, seed=s) for s in range(4)]
    assert interop.quantize(interop.to_float(vectors), k=60) == vectors


def test_similar_embeddings_stay_similar():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 4096))
    near, far = base + 0.1 * rng.normal(size=base.shape), rng.normal(size=base.shape)
    b, n, f = (interop.quantize(v, k=256)[0] for v in (base, near, far))
    assert b.dot(n) > 5 * abs(b.dot(f))


@pytest.mark.parametrize('x, k, match', [(np.zeros((2, 0)), None, 'shape'), (np.array([np.nan, 1.0]), 1, 'NaN'),
                                         (np.ones(4), 5, 'between')])
def test_bad_input_is_a_clear_error(x, k, match):
    with pytest.raises(interop.InteropError, match=match):
        interop.quantize(x, k=k)
