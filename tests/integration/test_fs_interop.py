"""fs -> interop: an engram's vectors leave through interop and come back identical."""
import json

import numpy as np

from embeddenator import fs, interop


def test_npz_export_round_trips_file_and_chunk_vectors(tree, tmp_path):
    engram = fs.ingest(tree, workers=1)
    interop.export_engram(engram, tmp_path / 'e.npz')
    with np.load(tmp_path / 'e.npz', allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    files = interop.from_arrays({'dim': arrays['dim'], 'indptr': arrays['files_indptr'],
                                 'indices': arrays['files_indices'], 'signs': arrays['files_signs']})
    assert files == [interop.as_sparse(v, engram.codec.dim) for v in engram.file_vectors]
    chunks = interop.from_arrays({'dim': arrays['dim'], 'words': arrays['codebook_words'][:20]})
    dense = engram.codec.to_dense(np.asarray(engram.codebook[:20]))
    assert all(np.array_equal(c.to_dense(), d) for c, d in zip(chunks, dense))
    assert np.array_equal(arrays['chunk_ids'], engram.chunk_ids)


def test_chunk_vectors_decode_after_a_trip_through_every_form(tree):
    engram = fs.ingest(tree, workers=1)
    entry = next(e for e in engram.files if e.path == b'textwrap.py')
    rows = np.asarray(engram.codebook[engram.chunk_ids[entry.first:entry.first + entry.count]])
    vectors = interop.from_arrays({'dim': np.asarray(engram.codec.dim), 'words': rows.reshape(len(rows), -1)})
    for form in interop.FORMS:
        back = interop.from_arrays(interop.to_arrays(vectors, form))
        words = interop.to_arrays(back, 'packed')['words'].reshape(rows.shape)
        data = engram.codec.decode(words).reshape(-1)[:entry.size].tobytes()
        assert data == (tree / 'textwrap.py').read_bytes()


def test_json_export_names_every_file(tree, tmp_path):
    engram = fs.ingest(tree, workers=1)
    interop.export_engram(engram, tmp_path / 'e.json')
    doc = json.loads((tmp_path / 'e.json').read_text())
    assert len(doc['files']) == len(engram.files) and 'json/decoder.py' in {f['path'] for f in doc['files']}
