"""The shared-chunks benchmark's counting (benchmarks.fs_dedup) on a tiny tree: the benchmark itself never runs here."""
import random

import pytest

from benchmarks import fs_dedup
from embeddenator.fs import chunking
from embeddenator.fs.corrections import digest

pytest.importorskip('pyfastcdc')


def tiny_tree(n: int = 40) -> dict[str, bytes]:
    rng = random.Random(5)
    words = [''.join(rng.choice('abcdefgh_') for _ in range(rng.randint(2, 8))) for _ in range(200)]
    return {f'pkg/m{i}.py': ''.join(' '.join(rng.choices(words, k=rng.randint(1, 9))) + '\n'
                                    for _ in range(rng.randint(100, 600))).encode() for i in range(n)}


def test_the_edits_are_seeded_and_touch_a_tenth_of_the_files_at_the_top():
    a = tiny_tree()
    b, edits = fs_dedup.edit_tree(a, 18)
    assert fs_dedup.edit_tree(a, 18)[0] == b
    assert edits['edited_top'] == edits['edited_middle'] == 4 and edits['added'] == edits['deleted'] == 5
    assert sum(a.get(name) == data for name, data in b.items()) >= len(a) - 5 - 8


def test_rows_are_the_distinct_chunk_digests_of_both_versions_and_cdc_updates_add_fewer():
    a = tiny_tree()
    b, _ = fs_dedup.edit_tree(a, 18)
    fixed = fs_dedup.measure(lambda d: chunking.fixed_lengths(len(d)), a, b, row_bytes=2560)
    expected = {digest(d[i:i + 1250]) for tree in (a, b) for d in tree.values() for i in range(0, len(d), 1250)}
    assert fixed['rows'] == len(expected) and fixed['codebook_bytes'] == 2560 * len(expected)
    cdc = fs_dedup.measure(chunking.ContentDefined().lengths, a, b, row_bytes=2560)
    assert cdc['update_rows'] < fixed['update_rows']
