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
