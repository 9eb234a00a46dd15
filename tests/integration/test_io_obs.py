"""io and obs on their own, and what fs reports through them."""
import json

import numpy as np
import pytest

from embeddenator import fs, io, obs


def test_io_arrays_round_trip_and_detect_corruption(tmp_path):
    arrays = {'a': np.arange(10, dtype='<i8'), 'b': np.ones((3, 4), dtype=np.uint8)}
    path = tmp_path / 'x.edn'
    io.write_arrays(path, arrays, schema='test/v1')
    back = io.read_arrays(path, schema='test/v1')
    assert all(np.array_equal(back[k], v) for k, v in arrays.items())
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(io.FormatError, match='checksum'):
        io.read_arrays(path)


def test_io_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / 'f'
    io.atomic_write(path, [b'old'])

    def chunks():
        yield b'new'
        raise RuntimeError('disk full')
    with pytest.raises(RuntimeError):
        io.atomic_write(path, chunks())
    assert path.read_bytes() == b'old' and [p.name for p in tmp_path.iterdir()] == ['f']


def test_obs_exports_json_and_prometheus():
    obs.counter('integration_things_total', 'things', kind='a').inc(3)
    with obs.timer('integration_work_seconds', 'work'):
        pass
    doc = json.loads(obs.to_json())['metrics']
    assert doc['integration_things_total']['series'] == [{'labels': {'kind': 'a'}, 'value': 3}]
    assert doc['integration_work_seconds']['kind'] == 'histogram'
    text = obs.to_prometheus()
    assert 'integration_things_total{kind="a"} 3' in text and 'integration_work_seconds_count' in text


def test_fs_reports_its_work_through_obs(tree):
    before = obs.snapshot().get('fs_ingest_bytes_total', {'series': []})
    engram = fs.ingest(tree, workers=1)
    after = obs.snapshot()['fs_ingest_bytes_total']
    total = sum(s['value'] for s in after['series']) - sum(s['value'] for s in before['series'])
    assert total == engram.summary()['bytes']
    assert 'fs_ingest_seconds' in obs.to_prometheus()
