import json

import numpy as np
import pytest

from embeddenator import fs, interop


@pytest.fixture(scope='module')
def engram(tmp_path_factory):
    src = tmp_path_factory.mktemp('src')
    (src / 'd').mkdir()
    (src / 'd' / 'a.txt').write_bytes(b'alpha ' * 400)
    (src / 'b.bin').write_bytes(bytes(range(256)) * 20)
    return fs.ingest(src, workers=1)


def test_npz_export_holds_vectors_that_round_trip(engram, tmp_path):
    info = interop.export_engram(engram, tmp_path / 'e.npz')
    assert info['files'] == 2 and info['chunks'] == len(engram.codebook)
    with np.load(tmp_path / 'e.npz', allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    parts = {k[len('files_'):]: v for k, v in arrays.items() if k.startswith('files_')}
    files = interop.from_arrays({'dim': arrays['dim'], **parts})
    assert files == [interop.as_sparse(v, engram.codec.dim) for v in engram.file_vectors]
    assert arrays['file_paths'].tolist() == ['b.bin', 'd/a.txt']
    rows = interop.from_arrays({'dim': arrays['dim'], 'words': arrays['codebook_words']})
    assert np.array_equal(rows[0].to_dense(), engram.codec.to_dense(np.asarray(engram.codebook[:1]))[0])


def test_json_export_lists_files_and_the_tree(engram, tmp_path):
    interop.export_engram(engram, tmp_path / 'e.json')
    doc = json.loads((tmp_path / 'e.json').read_text())
    assert [f['path'] for f in doc['files']] == ['b.bin', 'd/a.txt']
    assert {t['prefix'] for t in doc['tree']} == {'', 'd'}
    assert len(doc['root']['pos']) + len(doc['root']['neg']) == engram.root.nnz


def test_npy_export_is_the_dense_file_matrix(engram, tmp_path):
    interop.export_engram(engram, tmp_path / 'e.npy')
    dense = np.load(tmp_path / 'e.npy')
    assert dense.shape == (2, engram.codec.dim) and dense.dtype == np.int8
    assert np.count_nonzero(dense, axis=1).tolist() == [v.nnz for v in engram.file_vectors]


def test_unknown_suffix_is_a_clear_error(engram, tmp_path):
    with pytest.raises(interop.InteropError, match='unknown export suffix'):
        interop.export_engram(engram, tmp_path / 'e.csv')


def test_npz_export_of_a_stored_engram_writes_the_codebook_block_by_block(tmp_path, monkeypatch):
    """A v4 engram derives its codebook rows: the export makes and writes them a block at a time (a 700 MB tree
    has 1.4 GB of rows), never the whole matrix, and the file holds exactly the rows."""
    from embeddenator.fs.store import DerivedRows
    from embeddenator.interop import export
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'r.bin').write_bytes(np.random.default_rng(7).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    (src / 'short.txt').write_bytes(b'short\n')
    fs.ingest_to(src, tmp_path / 't.engram', workers=1)
    engram = fs.load(tmp_path / 't.engram')
    whole = np.asarray(engram.codebook).reshape(len(engram.codebook), -1)
    monkeypatch.setattr(export, 'CODEBOOK_BLOCK', 7)                       # several blocks, the last one short
    monkeypatch.setattr(DerivedRows, '__array__', lambda *a, **k: pytest.fail('the whole codebook was made'))
    info = interop.export_engram(engram, tmp_path / 'e.npz')
    with np.load(tmp_path / 'e.npz', allow_pickle=False) as data:
        assert info['chunks'] == len(whole) == 25 and data['codebook_words'].dtype == np.dtype('<u8')
        assert np.array_equal(data['codebook_words'], whole)
        assert np.array_equal(data['chunk_ids'], np.asarray(engram.chunk_ids))
