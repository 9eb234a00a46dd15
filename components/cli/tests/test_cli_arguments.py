"""Bad arguments: every integer option is range-checked with one clear line and exit 1, never a traceback;
with --json the error is still one JSON object on stdout."""
import json
import os

import pytest

from embeddenator.cli.__main__ import main


@pytest.fixture
def engram(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'a.txt').write_bytes(b'hello engram\n' * 50)
    path = tmp_path / 'e.engram'
    assert main(['ingest', str(src), '-o', str(path), '--workers', '1']) == 0
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize('k', ['99999999999999999999', '0', '-1', '1000001', 'five'])
def test_query_k_out_of_range_is_one_line_and_exit_1(engram, capsys, k):
    code, out, err = _run(capsys, 'query', engram, engram, '-k', k)
    assert code == 1 and out == ''
    assert err.count('\n') == 1 and '-k' in err and 'Traceback' not in err


def test_query_k_out_of_range_with_json_is_still_json(engram, capsys):
    code, out, err = _run(capsys, 'query', engram, engram, '-k', '99999999999999999999', '--json')
    assert code == 1 and json.loads(out)['kind'] == 'user' and '-k' in json.loads(out)['error']


@pytest.mark.parametrize('command', ['ingest', 'bench'])
@pytest.mark.parametrize('workers', ['0', '-3', '99999999999999999999'])
def test_workers_must_be_at_least_one(tmp_path, capsys, command, workers):
    extra = ['-o', str(tmp_path / 'x.engram')] if command == 'ingest' else []
    code, out, err = _run(capsys, command, tmp_path, *extra, '--workers', workers)
    assert code == 1 and err.count('\n') == 1 and '--workers' in err and 'between 1 and' in err
    assert not os.path.exists(tmp_path / 'x.engram')


def test_a_good_k_still_works(engram, capsys):
    code, out, _ = _run(capsys, 'query', engram, engram, '-k', '3', '--json')
    assert code == 0 and json.loads(out)['k'] == 3
