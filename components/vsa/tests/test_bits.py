"""`bit_sums` and `keep_largest` against plain numpy: unpacked bits summed, and a sort by magnitude then rank."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddenator import vsa


def bit_sums_reference(data: bytes, width: int) -> np.ndarray:
    """+1 per set bit, -1 per clear bit of each width-byte piece, nothing past the end of a short last piece."""
    raw = np.frombuffer(data, dtype=np.uint8)
    pieces = -(-len(raw) // width)
    padded = np.zeros(pieces * width, dtype=np.uint8)
    padded[: len(raw)] = raw
    bits = np.unpackbits(padded.reshape(pieces, width), axis=1).astype(np.int64)
    reach = np.zeros((pieces, 8 * width), dtype=bool)
    reach.reshape(-1)[: 8 * len(raw)] = True
    return np.where(reach, 2 * bits - 1, 0).sum(axis=0)


def keep_largest_reference(sums: np.ndarray, k: int, rank: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(sums)
    best = nz[np.lexsort((rank[nz], -np.abs(sums[nz].astype(np.int64))))][:k]
    return np.sort(best)


# Lengths around a piece (exactly one, one byte short and over, empty, one byte) and past 255 pieces (where the
# kernel flushes its byte lanes); widths of one byte, odd, and the file codec's chunk.
@given(seed=st.integers(0, 2**32 - 1), width=st.sampled_from([1, 3, 8, 64, 1250]),
       length=st.sampled_from(['empty', 'one', 'piece', 'piece-1', 'piece+1', 'random', 'many']),
       fill=st.sampled_from(['random', 'zeros', 'ones']))
def test_bit_sums_match_unpacked_bits_summed(seed, width, length, fill):
    rng = np.random.default_rng(seed)
    n = {'empty': 0, 'one': 1, 'piece': width, 'piece-1': width - 1, 'piece+1': width + 1,
         'random': int(rng.integers(0, 5 * width + 2)), 'many': 300 * width + int(rng.integers(0, width))}[length]
    data = {'random': rng.integers(0, 256, n, dtype=np.uint8), 'zeros': np.zeros(n, np.uint8),
            'ones': np.full(n, 255, np.uint8)}[fill].tobytes()
    got = vsa.bit_sums(data, width)
    assert got.dtype == np.int32 and got.shape == (8 * width,)
    np.testing.assert_array_equal(got, bit_sums_reference(data, width))
    np.testing.assert_array_equal(vsa.bit_sums(np.frombuffer(data, np.uint8), width), got)   # array or bytes


@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 300), k=st.integers(0, 320),
       spread=st.sampled_from([1, 2, 5, 1000]), zeros=st.floats(0, 1))
def test_keep_largest_matches_a_sort_by_magnitude_then_rank(seed, m, k, spread, zeros):
    rng = np.random.default_rng(seed)
    sums = rng.integers(-spread, spread + 1, m).astype(np.int32)
    sums[rng.random(m) < zeros] = 0
    rank = rng.permutation(m).astype(np.int64)
    got = vsa.keep_largest(sums, k, rank)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, keep_largest_reference(sums, k, rank))


def test_keep_largest_of_nothing_and_of_extreme_sums():   # the least int32 has a magnitude of 2^31
    assert vsa.keep_largest(np.zeros(0, np.int32), 5, np.zeros(0, np.int64)).tolist() == []
    sums = np.array([np.iinfo(np.int32).min, 7, -7, np.iinfo(np.int32).max, 0], np.int32)
    assert vsa.keep_largest(sums, 3, np.array([4, 3, 2, 1, 0], np.int64)).tolist() == [0, 2, 3]


@pytest.mark.parametrize('data, width', [(b'ab', 0), (b'ab', -1), (b'ab', 1.0), (np.zeros(4, np.int16), 2),
                                         (np.zeros((2, 2), np.uint8), 2), (np.zeros(8, np.uint8)[::2], 2), ('ab', 2)])
def test_bit_sums_refuses_what_it_cannot_read(data, width):
    with pytest.raises((ValueError, TypeError)):
        vsa.bit_sums(data, width)


@pytest.mark.parametrize('sums, k, rank', [
    (np.zeros(3, np.int64), 1, np.arange(3)),                      # sums not int32
    (np.zeros(3, np.int32), 1, np.arange(3, dtype=np.int32)),      # rank not int64
    (np.zeros(3, np.int32), 1, np.arange(2)),                      # rank of another length
    (np.zeros(3, np.int32), -1, np.arange(3)),                     # negative k
    (np.ones(3, np.int32), 2, np.array([0, 5, 1])),                # a rank outside [0, 3)
    (np.ones(3, np.int32), 2, np.array([0, -1, 1])),               # a negative rank
    (np.ones(3, np.int32), 2, np.array([0, 0, 0])),                # repeated ranks: no rank keeps exactly 2
])
def test_keep_largest_refuses_inputs_it_cannot_rank(sums, k, rank):
    with pytest.raises(ValueError):
        vsa.keep_largest(sums, k, rank)
