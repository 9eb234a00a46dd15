import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from embeddenator import interop, vsa
from embeddenator.fs import Sparse

VECTORS = [vsa.random(dim=1000, nnz=40, seed=s) for s in range(5)] + [vsa.SparseVec(1000, [], [])]


@pytest.mark.parametrize('form', interop.FORMS)
def test_array_forms_round_trip_exactly(form):
    arrays = interop.to_arrays(VECTORS, form)
    assert interop.from_arrays(arrays) == VECTORS


def test_array_shapes_and_dtypes():
    assert interop.to_arrays(VECTORS, 'dense')['dense'].dtype == np.int8
    words = interop.to_arrays(VECTORS, 'packed')['words']
    assert words.dtype == np.uint64 and words.shape == (6, vsa.row_layout(1000)[2])
    sparse = interop.to_arrays(VECTORS, 'sparse')
    assert sparse['indptr'].tolist()[-1] == sparse['indices'].size == 5 * 40


def test_every_vsa_type_and_fs_sparse_is_accepted():
    sv = VECTORS[0]
    fs_vec = Sparse(np.concatenate([sv.pos, sv.neg]).astype(np.int32)[np.argsort(np.concatenate([sv.pos, sv.neg]))],
                    np.where(np.isin(np.sort(np.concatenate([sv.pos, sv.neg])), sv.pos), 1, -1).astype(np.int8))
    mixed = [sv, sv.to_packed(), sv.to_block_sparse(), fs_vec]
    assert interop.from_arrays(interop.to_arrays(mixed, 'sparse', dim=1000)) == [sv] * 4


@pytest.mark.parametrize('suffix', ['.npy', '.npz', '.json'])
def test_files_round_trip(tmp_path, suffix):
    path = tmp_path / f'v{suffix}'
    interop.save(path, VECTORS)
    assert interop.load(path) == VECTORS


@pytest.mark.parametrize('form', interop.FORMS)
def test_npz_keeps_any_form(tmp_path, form):
    interop.save_npz(tmp_path / 'v.npz', VECTORS, form=form)
    assert interop.load_npz(tmp_path / 'v.npz') == VECTORS


def test_json_is_plain_and_documented(tmp_path):
    interop.save_json(tmp_path / 'v.json', VECTORS[:1])
    doc = json.loads((tmp_path / 'v.json').read_text())
    assert doc['format'] == 'embeddenator-vectors/v1' and doc['dim'] == 1000
    assert doc['vectors'][0]['pos'] == VECTORS[0].pos.tolist()


@pytest.mark.parametrize('arrays, match', [
    ({'dim': np.asarray(4), 'dense': np.array([[2, 0, 0, 0]], np.int8)}, 'values in'),
    ({'dim': np.asarray(4), 'dense': np.zeros((1, 3), np.int8)}, 'shape'),
    ({'dim': np.asarray(4)}, 'missing'),
    ({'dim': np.asarray(4), 'indptr': np.array([0, 2]), 'indices': np.array([3, 1]),
      'signs': np.array([1, 1], np.int8)}, 'valid vectors'),
])
def test_bad_arrays_are_clear_errors(arrays, match):
    with pytest.raises(interop.InteropError, match=match):
        interop.from_arrays(arrays)


def test_bad_files_are_clear_errors(tmp_path):
    (tmp_path / 'x.json').write_text('{"format": "other"}')
    with pytest.raises(interop.InteropError, match='format'):
        interop.load(tmp_path / 'x.json')
    (tmp_path / 'x.npz').write_bytes(b'not a zip')
    with pytest.raises(interop.InteropError, match='not a valid .npz'):
        interop.load(tmp_path / 'x.npz')
    with pytest.raises(interop.InteropError, match='unknown suffix'):
        interop.save(tmp_path / 'x.csv', VECTORS)
    with pytest.raises(interop.InteropError, match='cannot write'):
        interop.save(tmp_path / 'missing' / 'x.npy', VECTORS)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-1, 1), min_size=1, max_size=300))
def test_dense_round_trip_any_ternary_row(values):
    row = np.asarray(values, np.int8)
    vec = vsa.SparseVec.from_dense(row)
    for form in interop.FORMS:
        assert np.array_equal(interop.from_arrays(interop.to_arrays([vec], form))[0].to_dense(), row)
