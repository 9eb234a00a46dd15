import mmap

import numpy as np
import pytest

from embeddenator import io


def _owner(arr):
    """The object that finally owns an array's memory (through views and memoryviews)."""
    while isinstance(arr, np.ndarray) and arr.base is not None:
        arr = arr.base
    return arr.obj if isinstance(arr, memoryview) else arr


def test_packed_codebook_is_memory_mapped_read_only_and_aligned(packed_file):
    book = io.read_packed(packed_file)
    assert (book.dim, book.n, book.row_words) == (130, 2, 6)
    assert np.array_equal(book.words, np.arange(12))
    assert not book.words.flags.writeable and book.words.ctypes.data % 64 == 0
    assert isinstance(_owner(book.words), mmap.mmap)
    with pytest.raises(ValueError):
        book.words[0] = 1


def test_packed_round_trip_compressed(tmp_path, codec):
    words = np.random.default_rng(1).integers(0, 2**63, 40, dtype=np.uint64)
    io.write_packed(tmp_path / 'c', 300, words, n=4, codec=codec)
    book = io.read_packed(tmp_path / 'c')
    assert np.array_equal(book.words, words) and book.row_words == 10 and book.words.ctypes.data % 64 == 0


@pytest.mark.parametrize('kwargs', [dict(dim=1000, n=2), dict(dim=130, n=5), dict(dim=0, n=2)])
def test_packed_refuses_inconsistent_shapes_on_write(tmp_path, kwargs):
    with pytest.raises(ValueError, match='inconsistent'):
        io.write_packed(tmp_path / 'c', words=np.zeros(12, '<u8'), **kwargs)


def test_packed_refuses_other_dtypes(tmp_path):
    with pytest.raises(ValueError, match='uint64'):
        io.write_packed(tmp_path / 'c', 64, np.zeros(4, np.int64), n=4)


def test_sparse_round_trip(tmp_path, codec):
    rows = [([1, 5, 9], [2, 3]), ([], []), ([0], [99])]
    io.write_sparse(tmp_path / 's', io.SparseBatch.from_rows(100, rows), codec=codec)
    back = io.read_sparse(tmp_path / 's')
    assert len(back) == 3 and back.dim == 100
    assert [(list(p), list(q)) for p, q in map(back.row, range(3))] == [tuple(map(list, r)) for r in rows]


@pytest.mark.parametrize('rows, reason', [
    ([([3, 1], [])], 'strictly increasing'), ([([1, 1], [])], 'strictly increasing'),
    ([([1], [1])], 'both'), ([([100], [])], 'outside'), ([([-1], [])], 'outside')])
def test_sparse_rejects_invalid_vectors(rows, reason):
    with pytest.raises(ValueError, match=reason):
        io.SparseBatch.from_rows(100, rows)


def test_sparse_reader_rechecks_semantics(tmp_path):
    good = io.SparseBatch.from_rows(10, [([1, 2], [3])])
    bad = io.SparseBatch(10, good.pos_indptr, np.array([2, 1], '<u4'), good.neg_indptr, good.neg)
    entries, chunks = io.arrays.pack_arrays({'pos_indptr': bad.pos_indptr, 'pos': bad.pos,
                                             'neg_indptr': bad.neg_indptr, 'neg': bad.neg})
    io.write_envelope(tmp_path / 's', io.Kind.SPARSE, chunks, {'dim': 10, 'n': 1, 'arrays': entries})
    with pytest.raises(io.FormatError, match='strictly increasing'):
        io.read_sparse(tmp_path / 's')


def test_arrays_round_trip_with_schema(tmp_path, codec):
    arrays = {'ids': np.arange(7, dtype=np.int64), 'm': np.eye(3, dtype='<f4'), 'mask': np.array([True, False])}
    io.write_arrays(tmp_path / 'a', arrays, codec=codec, schema='test/1')
    back = io.read_arrays(tmp_path / 'a', schema='test/1')
    assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype for k, v in arrays.items())
    with pytest.raises(io.FormatError, match='schema'):
        io.read_arrays(tmp_path / 'a', schema='other/1')


def test_arrays_refuse_object_dtypes(tmp_path):
    with pytest.raises(ValueError, match='cannot be stored'):
        io.write_arrays(tmp_path / 'a', {'o': np.array([object()])})


def test_arrays_reader_checks_extents(tmp_path):
    entries = [{'name': 'x', 'dtype': '<u8', 'shape': [100], 'offset': 0}]
    io.write_envelope(tmp_path / 'a', io.Kind.ARRAYS, [bytes(64)], {'arrays': entries})
    with pytest.raises(io.FormatError, match='runs past'):
        io.read_arrays(tmp_path / 'a')


def test_json_round_trip(tmp_path, codec):
    obj = {'files': [{'path': 'a/b', 'size': 3}], 'dim': 10_000}
    io.write_json(tmp_path / 'm', obj, codec=codec)
    assert io.read_json(tmp_path / 'm') == obj
