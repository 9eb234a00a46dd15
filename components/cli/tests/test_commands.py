import json
import os
import subprocess
import sys

import pytest

import numpy as np

from embeddenator import io
from embeddenator.cli.__main__ import OK, USER_ERROR, build_parser, main


@pytest.fixture
def src(tmp_path):
    root = tmp_path / 'src'
    (root / 'd').mkdir(parents=True)
    (root / 'd' / 'a.txt').write_bytes(b'alpha beta gamma\n' * 200)
    (root / 'b.bin').write_bytes(os.urandom(5000))
    return root


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_info_query_extract_export_in_json(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    code, out, _ = run(capsys, 'ingest', src, '-o', engram, '--json', '--workers', '1')
    ingest = json.loads(out)
    assert code == OK and ingest['files'] == 2 and ingest['bytes'] == 200 * 17 + 5000
    assert ingest['recovered_bytes'] == ingest['bytes'] and ingest['overhead_percent'] > 0
    code, out, _ = run(capsys, 'info', engram, '--json')
    assert code == OK and json.loads(out)['unique_chunks'] == ingest['unique_chunks']
    code, out, _ = run(capsys, 'query', engram, src / 'd' / 'a.txt', '-k', '1', '--json')
    assert code == OK and json.loads(out)['files'][0]['path'] == 'd/a.txt'
    code, out, _ = run(capsys, 'extract', engram, '-o', tmp_path / 'out', '--json')
    assert code == OK and json.loads(out)['verified'] is True
    assert (tmp_path / 'out' / 'b.bin').read_bytes() == (src / 'b.bin').read_bytes()
    code, out, _ = run(capsys, 'export', engram, '-o', tmp_path / 'v.json', '--json')
    assert code == OK and json.loads(out)['files'] == 2 and (tmp_path / 'v.json').exists()


def test_bench_measures_and_keeps_nothing(src, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, 'bench', src, '--workers', '1', '--json')
    result = json.loads(out)
    assert code == OK and result['verified'] and result['files'] == 2 and result['recovered_fraction'] == 1.0
    assert result['ingest_mb_s'] > 0 and result['extract_mb_s'] > 0 and result['overhead_percent'] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['src']


def test_human_output_through_a_pipe_has_no_progress_bar(src, tmp_path):
    out = subprocess.run([sys.executable, '-m', 'embeddenator.cli', 'ingest', str(src), '-o',
                          str(tmp_path / 'e.engram'), '--workers', '1'], capture_output=True, text=True)
    assert out.returncode == OK and out.stdout.startswith('ingested 2 files') and out.stderr == ''


# The documented codes as literals (0 ok, 1 user error, 2 data error): a changed constant must fail here.
@pytest.mark.parametrize('argv, code, message', [
    (['ingest', 'missing-dir', '-o', 'e.engram'], 1, 'cannot read the source'),
    (['ingest', '.', '-o', 'no/such/folder/e.engram'], 1, 'does not exist'),
    (['info', 'missing.engram'], 1, 'no such engram'),
    (['query', 'e.engram', 'missing.txt'], 1, 'cannot read the query'),
    (['export', 'e.engram', '-o', 'v.csv'], 1, 'unknown export suffix'),
    (['info', 'bad.engram'], 2, 'bad.engram'),
    (['extract', 'e.engram', '-o', 'out'], 0, ''),
])
def test_errors_are_messages_with_exit_codes(tmp_path, src, capsys, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'bad.engram').write_bytes(b'EDN1' + bytes(100))
    main(['ingest', str(src), '-o', 'e.engram', '--workers', '1'])
    capsys.readouterr()
    got, out, err = run(capsys, *argv)
    assert got == code
    assert message in err and 'Traceback' not in err


def _tamper_chunk(engram):
    """Change one byte of the stored chunks in a valid frame and re-seal the envelope: the file's checksums are
    valid again, but the chunk no longer holds the bytes the manifest's SHA-256 names."""
    import zstandard
    from embeddenator.fs.journal import checks
    env = io.read_envelope(engram, io.Kind.ARRAYS, use_mmap=False)
    arrays = {name: np.array(a) for name, a in io.unpack_arrays(env).items()}
    frames, offsets = arrays['frames'], arrays['frame_offsets']
    first = bytearray(zstandard.ZstdDecompressor().decompress(frames[:offsets[1]].tobytes()))
    first[0] ^= 1
    frame = np.frombuffer(zstandard.ZstdCompressor(write_checksum=True).compress(bytes(first)), np.uint8)
    arrays['frames'] = np.concatenate([frame, frames[offsets[1]:]])
    arrays['frame_offsets'] = np.r_[0, offsets[1:] - offsets[1] + frame.size].astype('<i8')
    extra = {k: v for k, v in env.meta.items() if k not in ('arrays', 'schema')}
    extra['checks'] = checks(arrays)
    io.write_arrays(engram, arrays, schema=env.meta['schema'], extra=extra)


def test_integrity_failure_is_a_data_error(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    assert main(['ingest', str(src), '-o', str(engram), '--workers', '1']) == 0
    _tamper_chunk(engram)
    capsys.readouterr()
    assert main(['info', str(engram)]) == 0                    # the envelope itself reads fine
    capsys.readouterr()
    code, out, err = run(capsys, 'extract', engram, '-o', tmp_path / 'out', '--json')
    assert code == 2
    assert json.loads(out)['kind'] == 'data'
    assert 'damaged' in json.loads(out)['error'] and 'Traceback' not in err
    code, out, err = run(capsys, 'extract', engram, '-o', tmp_path / 'again')
    assert code == 2 and 'damaged' in err


def test_json_errors_are_objects(tmp_path, capsys):
    code, out, _ = run(capsys, 'info', tmp_path / 'missing.engram', '--json')
    assert code == USER_ERROR and json.loads(out) == {'error': f'{tmp_path / "missing.engram"}: no such engram; '
                                                               'check the path', 'kind': 'user'}


def test_every_command_has_help(capsys):
    for command in ('ingest', 'extract', 'query', 'info', 'export', 'bench'):
        with pytest.raises(SystemExit) as stop:
            build_parser().parse_args([command, '--help'])
        assert stop.value.code == 0
        assert 'usage: embeddenator ' + command in capsys.readouterr().out


def test_progress_bar_draws_only_on_a_terminal():
    import io

    from embeddenator.cli.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress('ingest', stream=stream)
        bar(50, 100)
        bar.close()
    assert '50%' in tty.getvalue() and pipe.getvalue() == ''


def test_query_a_sharded_index_with_vectors_from_a_npy_file(tmp_path, capsys):
    from embeddenator import vsa
    from embeddenator.retrieval.shards import save_shards
    rows = np.array([[1, 0, -1, 0], [0, 1, 0, 0], [1, 1, 0, -1], [0, 0, 1, 1], [-1, 0, 0, 1]], np.int8)
    folder = save_shards(tmp_path / 'book', vsa.PackedMatrix.from_dense(rows), shards=2)
    np.save(tmp_path / 'q.npy', rows[[2, 4]])
    code, out, _ = run(capsys, 'query', folder, tmp_path / 'q.npy', '-k', '2', '--scheduler', 'inline', '--json')
    assert code == OK
    assert json.loads(out)['results'] == [[{'id': 2, 'score': 3}, {'id': 0, 'score': 1}],
                                          [{'id': 4, 'score': 2}, {'id': 3, 'score': 1}]]
    np.save(tmp_path / 'bad.npy', np.array([[2, 0, 0, 0]]))
    code, _, err = run(capsys, 'query', folder, tmp_path / 'bad.npy', '--scheduler', 'inline')
    assert code == USER_ERROR and 'only -1, 0 and +1' in err


def test_info_reads_as_a_summary_with_sizes_in_megabytes(src, tmp_path, capsys):
    engram = tmp_path / 'e.engram'
    run(capsys, 'ingest', src, '-o', engram, '--workers', '1')
    (src / 'b.bin').unlink()
    run(capsys, 'update', engram, src)
    code, out, _ = run(capsys, 'info', engram)
    facts = json.loads(run(capsys, 'info', engram, '--json')[1])
    lines = out.splitlines()
    assert code == OK and [line.split(':')[0] for line in lines] == [
        'engram', 'codec', 'tree', 'chunks', 'storage', 'vectors']
    assert lines[0] == f"engram: {engram} ({facts['engram_bytes'] / 1e6:.2f} MB), generation 1"
    assert lines[2] == f"tree: 1 files ({200 * 17 / 1e6:.2f} MB), 1 folders, 0 symlinks, 0 hard links, 0 special"
    assert f"live {facts['live_bytes'] / 1e6:.2f} MB in {facts['live_rows']} rows" in lines[4]
    assert f"dead {facts['dead_bytes'] / 1e6:.2f} MB in {facts['dead_rows']} rows" in lines[4]
    assert '1 deleted entries' in lines[4] and 'embeddenator compact' in lines[4]
