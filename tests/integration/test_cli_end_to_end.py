"""Every `embeddenator` command, end to end, as a user runs it (a subprocess in a temporary folder)."""
import json
import subprocess

import numpy as np
import pytest

from conftest import run_cli

COMMANDS = ('ingest', 'extract', 'query', 'info', 'export', 'bench')


@pytest.fixture(scope='module')
def engram(tree, tmp_path_factory):
    path = tmp_path_factory.mktemp('cli') / 'tree.engram'
    code, out, err = run_cli('ingest', tree, '-o', path, '--json')
    assert code == 0, err
    return path, json.loads(out)


def test_ingest_reports_a_bit_perfect_encoding(engram, tree):
    _, result = engram
    assert result['files'] == sum(1 for p in tree.rglob('*') if p.is_file() and not p.is_symlink())
    assert result['recovered_bytes'] == result['bytes'] and result['corrections'] == 0


def test_extract_recreates_the_tree(engram, tree, tmp_path):
    code, out, err = run_cli('extract', engram[0], '-o', tmp_path / 'out')
    assert code == 0, err
    assert 'every file matched its SHA-256' in out
    diff = subprocess.run(['diff', '-r', '--no-dereference', str(tree), str(tmp_path / 'out')],
                          capture_output=True, text=True)
    assert diff.returncode == 0, diff.stdout


def test_query_finds_the_file(engram, tree):
    code, out, err = run_cli('query', engram[0], tree / 'json' / 'encoder.py', '-k', '3', '--json')
    assert code == 0, err
    result = json.loads(out)
    assert result['files'][0]['path'] == 'json/encoder.py' and result['chunks'][0]['path'] == 'json/encoder.py'
    code, out, _ = run_cli('query', engram[0], tree / 'json' / 'encoder.py', '-k', '3')
    assert out.startswith('files:') and 'json/encoder.py' in out


def test_info_describes_the_engram(engram):
    code, out, err = run_cli('info', engram[0], '--json')
    info = json.loads(out)
    assert code == 0 and info['codec'] == {'version': 1, 'dim': 10000, 'chunk_size': 1250}
    assert info['engram_bytes'] == engram[0].stat().st_size and info['unique_chunks'] == engram[1]['unique_chunks']


@pytest.mark.parametrize('suffix', ['.npz', '.json', '.npy'])
def test_export_writes_each_format(engram, tmp_path, suffix):
    target = tmp_path / f'vectors{suffix}'
    code, out, err = run_cli('export', engram[0], '-o', target)
    assert code == 0, err and target.exists()
    if suffix == '.npy':
        assert np.load(target).shape == (engram[1]['files'], 10000)


@pytest.mark.parametrize('command', COMMANDS)
def test_every_command_has_help(command):
    code, out, _ = run_cli(command, '--help')
    assert code == 0 and out.startswith(f'usage: embeddenator {command}')


@pytest.mark.parametrize('argv, code, needle', [
    (['ingest', 'no-such-dir', '-o', 'x.engram'], 1, 'cannot read the source'),
    (['ingest', '.', '-o', 'junk.engram/x.engram'], 1, 'does not exist'),
    (['extract', 'no.engram', '-o', 'out'], 1, 'no such engram'),
    (['info', 'junk.engram'], 2, 'junk.engram'),
    (['query', 'junk.engram', 'junk.engram'], 2, 'junk.engram'),
    (['info'], 1, 'required'),
])
def test_user_errors_are_messages_with_exit_codes(tmp_path, argv, code, needle):
    (tmp_path / 'junk.engram').write_bytes(b'not an engram at all' * 10)
    got, out, err = run_cli(*argv, cwd=tmp_path)
    assert got == code and needle in err and 'Traceback' not in err


def test_bench_reports_speed_on_the_tree(tree):
    code, out, err = run_cli('bench', tree / 'json', '--json')
    result = json.loads(out)
    assert code == 0, err
    assert result['verified'] and result['recovered_fraction'] == 1.0 and result['ingest_mb_s'] > 0
