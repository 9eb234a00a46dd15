import hashlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from embeddenator.fs.codec import ChunkCodec

CODEC = ChunkCodec()


@pytest.mark.parametrize('size', [1, 2, 1249, 1250, 1251, 5000])
def test_decode_inverts_encode(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    rows = CODEC.encode(data)
    assert rows.shape == (CODEC.chunk_count(size), 2, CODEC.half)
    assert CODEC.decode(rows).reshape(-1)[:size].tobytes() == data


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=4000))
def test_round_trip_any_bytes(data):
    assert CODEC.decode(CODEC.encode(data)).reshape(-1)[: len(data)].tobytes() == data


def test_empty_input_has_no_chunks():
    assert CODEC.encode(b'').shape == (0, 2, CODEC.half)


def test_vectors_are_ternary_with_one_trit_per_bit_and_zero_padding():
    dense = CODEC.to_dense(CODEC.encode(b'x' * 1250 + b'yz'))
    assert set(np.unique(dense)) <= {-1, 0, 1}
    assert np.count_nonzero(dense[0]) == 8 * 1250
    assert np.count_nonzero(dense[1]) == 8 * 2          # the short last chunk leaves its other slots at 0
    rows = CODEC.encode(b'q' * 10)
    pad_bits = CODEC.words * 64 - CODEC.dim
    assert all(int(w) >> (64 - pad_bits) == 0 for w in rows[0, :, CODEC.words - 1])
    assert not rows[:, :, CODEC.words:].any()


def test_rows_are_packed_matrix_rows_of_the_same_vectors():
    from embeddenator import vsa
    nw, half, stride = vsa.row_layout(CODEC.dim)
    assert (CODEC.words, CODEC.half) == (nw, half)
    rows = CODEC.encode(np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    matrix = vsa.PackedMatrix.from_buffer(CODEC.dim, len(rows), rows.reshape(-1))     # checks every row
    dense = CODEC.to_dense(rows)
    for i in range(len(rows)):
        assert matrix.row(i) == vsa.PackedVec.from_dense(dense[i])


def test_position_binding_gives_equal_bytes_disjoint_supports():
    both = set(np.flatnonzero(CODEC.to_dense(CODEC.encode(b'\xff\xff'))[0]))
    first = set(np.flatnonzero(CODEC.to_dense(CODEC.encode(b'\xff'))[0]))
    assert len(first) == 8 and len(both) == 16 and first < both
    assert max(both) - min(both) > 64                  # spread over the vector, not packed side by side


def test_seed_scheme_is_fixed_across_processes_and_hash_seeds():
    code = ('import hashlib; from embeddenator.fs.codec import ChunkCodec; '
            "print(hashlib.sha256(ChunkCodec().encode(b'embeddenator').tobytes()).hexdigest())")
    outs = {subprocess.run([sys.executable, '-c', code], env={'PYTHONHASHSEED': seed, 'PATH': ''},
                           capture_output=True, text=True, check=True).stdout for seed in ('1', '2')}
    assert outs == {hashlib.sha256(CODEC.encode(b'embeddenator').tobytes()).hexdigest() + '\n'}


def test_other_parameters_give_other_vectors():
    small = ChunkCodec(dim=4096, chunk_size=512)
    assert small.decode(small.encode(b'abc')).reshape(-1)[:3].tobytes() == b'abc'
    assert small.words == 64 and CODEC.words == 157


def test_superposed_codec_puts_several_bits_in_each_trit_and_decodes_most_of_them():
    codec = ChunkCodec(chunk_size=2500)
    assert codec.overlap == 2
    data = bytes(range(256)) * 9 + b'tail'
    dense = codec.to_dense(codec.encode(data))
    assert np.count_nonzero(dense[0]) < codec.dim                 # disagreeing pairs cancel to 0
    decoded = codec.decode(codec.encode(data)).reshape(-1)[: len(data)]
    right = np.mean(np.unpackbits(decoded) == np.unpackbits(np.frombuffer(data, np.uint8)))
    assert 0.6 < right < 1.0                                      # a tie loses a 1 bit: about 3 in 4 bits survive


@pytest.mark.parametrize('kwargs', [{'version': 2}, {'chunk_size': 20_000}, {'chunk_size': 0}])
def test_invalid_parameters_are_clear_errors(kwargs):
    with pytest.raises(ValueError, match='chunk|version'):
        ChunkCodec(**kwargs)


def test_decode_rejects_wrong_shapes():
    with pytest.raises(ValueError, match='shape'):
        CODEC.decode(np.zeros((1, 2, 3), dtype=np.uint64))


def random_chunks(codec: ChunkCodec, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random zero-padded chunks, every third one short, and their lengths."""
    rng = np.random.default_rng(seed)
    lengths = np.full(n, codec.chunk_size)
    lengths[::3] = rng.integers(1, codec.chunk_size, len(lengths[::3]))
    chunks = rng.integers(0, 256, (n, codec.chunk_size), dtype=np.uint8)
    chunks[np.arange(codec.chunk_size)[None, :] >= lengths[:, None]] = 0
    return chunks, lengths


@pytest.mark.parametrize('codec', [ChunkCodec(), ChunkCodec(dim=1024, chunk_size=128),
                                   ChunkCodec(dim=1000, chunk_size=100), ChunkCodec(chunk_size=2500)])
def test_packed_rows_made_in_the_packed_domain_equal_the_packed_planes(codec):
    chunks, lengths = random_chunks(codec, 40, seed=codec.chunk_size)
    assert np.array_equal(codec.encode_rows(chunks, lengths), codec.pack(*codec.encode_chunks(chunks, lengths)))


@pytest.mark.parametrize('codec', [ChunkCodec(), ChunkCodec(dim=1024, chunk_size=128),
                                   ChunkCodec(dim=1000, chunk_size=100), ChunkCodec(dim=1001, chunk_size=125)])
def test_plain_rows_score_as_the_codec_rows_do(codec):
    chunks, lengths = random_chunks(codec, 30, seed=codec.dim)
    chunks[5] = chunks[4]                                    # equal and near-equal chunks score high
    chunks[6, : codec.chunk_size // 2] = chunks[7, : codec.chunk_size // 2]
    chunks[np.arange(codec.chunk_size)[None, :] >= lengths[:, None]] = 0
    coded, plain = codec.to_dense(codec.encode_rows(chunks, lengths)), codec.to_dense(codec.plain_rows(chunks, lengths))
    reference = coded.astype(np.int64) @ coded.T.astype(np.int64)
    assert np.array_equal(plain.astype(np.int64) @ plain.T.astype(np.int64), reference)
    assert np.array_equal(np.abs(plain).sum(axis=1), 8 * lengths)      # +-1 on every bit the chunk has, 0 past it
    words = codec.plain_rows(chunks, lengths)[:, :, codec.words:]
    assert not words.any()                                   # the padding words of vsa's row layout stay zero


def test_plain_rows_refuse_a_superposed_codec():
    with pytest.raises(ValueError, match='exact codec'):
        ChunkCodec(chunk_size=2500).plain_rows(np.zeros((1, 2500), np.uint8), np.array([2500]))
