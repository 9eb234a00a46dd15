"""Chunk boundaries: fixed cuts against a plain reference, content-defined cuts that move with the content."""
import random

import pytest

from embeddenator.fs import chunking
from embeddenator.fs.corrections import digest

pytest.importorskip('pyfastcdc')


def text(n: int, seed: int = 0) -> bytes:
    """Source-like bytes: lines of words, so the cuts depend on real content rather than noise."""
    rng = random.Random(seed)
    words = [''.join(rng.choice('abcdefghij_') for _ in range(rng.randint(2, 9))) for _ in range(300)]
    out = bytearray()
    while len(out) < n:
        out += (' ' * rng.choice((0, 4, 8)) + ' '.join(rng.choices(words, k=rng.randint(1, 10))) + '\n').encode()
    return bytes(out[:n])


def reference_fixed(size, chunk):
    lengths = []
    while size > 0:
        lengths.append(min(chunk, size))
        size -= chunk
    return lengths


@pytest.mark.parametrize('size', [0, 1, 1249, 1250, 1251, 2500, 10_001])
def test_fixed_lengths_match_a_plain_loop(size):
    assert chunking.fixed_lengths(size) == reference_fixed(size, 1250)
    assert chunking.fixed_lengths(size, 7) == reference_fixed(size, 7)


def test_content_defined_chunks_cover_the_data_within_the_limits_and_round_trip():
    cdc = chunking.ContentDefined()
    data = text(200_000)
    lengths = cdc.lengths(data)
    assert sum(lengths) == len(data)
    assert max(lengths) <= 1250 and min(lengths[:-1]) >= 512
    assert b''.join(chunking.split(data, lengths)) == data
    assert cdc.lengths(b'') == [] and cdc.lengths(b'x') == [1]
    assert cdc.lengths(data) == lengths                  # the same bytes are always cut the same way


def digests(data, lengths):
    return [digest(c) for c in chunking.split(data, lengths)]


def test_an_insertion_near_the_top_leaves_the_later_chunks_unchanged():
    data = text(100_000, seed=1)
    edited = data[:300] + b'import something_new\n' + data[300:]
    cdc = chunking.ContentDefined()
    before, after = digests(data, cdc.lengths(data)), digests(edited, cdc.lengths(edited))
    assert len(set(before) & set(after)) >= 0.9 * len(before)
    assert before[-20:] == after[-20:]                   # the tail is cut at the very same places


def test_with_fixed_cuts_the_same_insertion_moves_every_later_chunk():
    data = text(100_000, seed=1)
    edited = data[:300] + b'import something_new\n' + data[300:]
    before = digests(data, chunking.fixed_lengths(len(data)))
    after = digests(edited, chunking.fixed_lengths(len(edited)))
    assert not set(before[1:]) & set(after)


def test_split_refuses_lengths_that_do_not_cover_the_data():
    with pytest.raises(ValueError, match='add up to 3, not 4 bytes'):
        chunking.split(b'abcd', [1, 2])


def test_settings_out_of_range_are_refused_at_once():
    with pytest.raises(ValueError):
        chunking.ContentDefined(min_size=2048, avg_size=1024)
    expected = {'kind': 'fastcdc2020', 'min': 512, 'avg': 1024, 'max': 1250, 'nc': 2, 'seed': 0}
    assert chunking.ContentDefined().describe() == expected
