import mmap

import numpy as np
import pytest
from conftest import ternary

from embeddenator import io
from embeddenator.retrieval import Index


@pytest.fixture
def saved(tmp_path, rng):
    vecs = [ternary(rng, 300, 20) for _ in range(80)]
    index = Index.from_vectors(vecs, ids=np.arange(80) * 3)
    index.remove(6)
    folder = index.save(tmp_path / 'idx')
    queries = [ternary(rng, 300, 25) for _ in range(6)]
    return folder, index, queries


def _same(a, b, queries, strategy='auto'):
    x, y = a.query_batch(queries, 9, strategy), b.query_batch(queries, 9, strategy)
    return np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])


def _owner(arr):
    while isinstance(arr, np.ndarray) and arr.base is not None:
        arr = arr.base
    return arr.obj if isinstance(arr, memoryview) else arr


def test_round_trip_answers_the_same(saved):
    folder, index, queries = saved
    loaded = Index.load(folder)
    assert len(loaded) == 79 and 6 not in loaded and 9 in loaded
    assert _same(index, loaded, queries, 'scan') and _same(index, loaded, queries, 'inverted')


def test_codebook_is_memory_mapped_and_copied_on_first_change(saved, rng):
    folder, index, queries = saved
    loaded = Index.load(folder)
    assert isinstance(_owner(loaded._words), mmap.mmap) and not loaded._words.flags.writeable
    new_id = loaded.add(ternary(rng, 300, 20))
    assert new_id == 238 and loaded._words.flags.writeable
    assert Index.load(folder).query(queries[0], 3)[0].tolist() == index.query(queries[0], 3)[0].tolist()


def _flip(path, offset_from_end=1):
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize('name', ['index.edn', 'codebook.edn', 'postings.edn'])
def test_truncated_or_flipped_files_are_named_on_load(saved, name):
    folder, _, _ = saved
    path = folder / name
    original = path.read_bytes()
    path.write_bytes(original[:len(original) // 2])
    with pytest.raises(io.FormatError, match=name) as info:
        Index.load(folder)
    assert 'truncated' in info.value.reason
    path.write_bytes(original)
    _flip(path)
    with pytest.raises(io.FormatError, match='checksum'):
        Index.load(folder)


def test_rebuild_recovers_from_damaged_postings(saved):
    folder, index, queries = saved
    _flip(folder / 'postings.edn', 10)
    with pytest.raises(io.FormatError, match='Index.rebuild'):
        Index.load(folder)
    rebuilt = Index.rebuild(folder)
    assert _same(index, rebuilt, queries, 'inverted')
    assert _same(index, Index.load(folder), queries, 'inverted')     # the postings file was rewritten


def test_rebuild_recovers_from_missing_postings(saved):
    folder, index, queries = saved
    (folder / 'postings.edn').unlink()
    assert _same(index, Index.rebuild(folder), queries, 'inverted')


def test_files_from_different_saves_are_not_mixed(saved, tmp_path):
    folder, index, _ = saved
    index.save(tmp_path / 'other')
    (folder / 'codebook.edn').write_bytes((tmp_path / 'other' / 'codebook.edn').read_bytes())
    with pytest.raises(io.FormatError, match='different saves'):
        Index.load(folder)


def test_invalid_codebook_rows_are_detected(saved):
    folder, _, _ = saved
    book = io.read_packed(folder / 'codebook.edn', use_mmap=False)
    words = np.array(book.words)
    words[0] |= np.uint64(1)                 # set position 0 in the +1 plane ...
    words[book.row_words // 2] |= np.uint64(1)   # ... and in the -1 plane of the same row
    io.write_packed(folder / 'codebook.edn', book.dim, words, n=book.n, row_words=book.row_words,
                    schema=book.meta['schema'], extra={k: book.meta[k] for k in ('generation',)})
    with pytest.raises(io.FormatError, match='rows are invalid'):
        Index.load(folder)


def test_empty_index_round_trips(tmp_path):
    Index(100).save(tmp_path / 'e')
    assert len(Index.load(tmp_path / 'e')) == 0
