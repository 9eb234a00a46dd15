import subprocess
import sys

import numpy as np

from embeddenator.fs.hierarchy import Sparse, ancestors, build, prefix_shift, thin

DIM = 10_000


def _random_sparse(rng, nnz=200):
    idx = np.unique(rng.integers(0, DIM, nnz)).astype(np.int32)
    return Sparse(idx, rng.choice(np.array([-1, 1], dtype=np.int8), idx.size))


def test_prefix_shift_does_not_depend_on_the_hash_seed():
    code = 'from embeddenator.fs.hierarchy import prefix_shift; print(prefix_shift(b"a/b", 10000))'
    outs = {subprocess.run([sys.executable, '-c', code], env={'PYTHONHASHSEED': s, 'PATH': ''},
                           capture_output=True, text=True, check=True).stdout for s in ('0', '1', '2')}
    assert outs == {f'{prefix_shift(b"a/b", DIM)}\n'}
    assert prefix_shift(b'a/b', DIM) != prefix_shift(b'a/c', DIM)


def test_thin_keeps_the_largest_magnitudes_and_bounds_the_density():
    acc = np.zeros(DIM, dtype=np.int32)
    acc[:300] = 1
    acc[[5, 600, 900]] = [-4, 3, 7]
    out = thin(acc, 50)
    assert out.nnz == 50 and np.all(np.diff(out.idx) > 0)
    assert {5, 600, 900} <= set(out.idx.tolist())
    assert out.sign[list(out.idx).index(5)] == -1
    assert np.array_equal(thin(acc, 50).idx, out.idx)          # ties: seeded, not random


def test_ancestors_end_at_the_root():
    assert ancestors(b'a/b/c') == [b'a/b', b'a', b'']
    assert ancestors(b'x') == [b'']


def test_ten_thousand_items_stay_bounded_and_children_are_recoverable_from_the_root():
    rng = np.random.default_rng(1)
    items = [(f'd{i % 50}/e{i % 3}'.encode(), _random_sparse(rng)) for i in range(10_000)]
    tree = build([b'empty'], items, DIM, max_nnz=400)
    assert all(v.nnz <= 400 for v in tree.values())
    assert {b'', b'd0', b'd0/e0', b'empty'} <= set(tree)
    root = tree[b''].to_dense(DIM).astype(np.int32)
    child = tree[b'd7'].shifted(prefix_shift(b'd7', DIM), DIM)
    unshifted = tree[b'd7']                                  # the same vector without its prefix permutation
    assert child.to_dense(DIM) @ root > 3 * abs(int(unshifted.to_dense(DIM) @ root))


def test_thin_of_equal_magnitudes_follows_the_seeded_tie_order():
    from embeddenator.fs.hierarchy import _tie_rank
    acc = np.random.default_rng(5).integers(-1, 2, DIM).astype(np.int32)
    kept = thin(acc, 150).idx
    nz = np.flatnonzero(acc)
    assert np.array_equal(kept, np.sort(nz[np.argsort(_tie_rank(DIM)[nz])[:150]]))
    acc[kept[0]] = 5                                   # one larger magnitude: still kept, through the general path
    assert kept[0] in thin(acc, 150).idx and thin(acc, 150).nnz == 150
