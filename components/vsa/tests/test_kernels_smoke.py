import json
import os
import subprocess
import sys

import numpy as np
import pytest

from embeddenator import vsa


@pytest.mark.parametrize('n', [0, 1, 3, 4, 5, 63, 64, 157])
def test_popcount_matches_numpy(path, n):
    rng = np.random.default_rng(n)
    words = rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    assert vsa.popcount(words) == int(np.bitwise_count(words).sum())


def test_popcount_all_ones(path):
    words = np.full(37, np.uint64(2**64 - 1))
    assert vsa.popcount(words) == 37 * 64


def test_default_path_is_widest_available():
    assert vsa.simd_path() in vsa.available_paths()
    assert 'scalar' in vsa.available_paths()


def test_forcing_an_unknown_path_is_a_clear_error():
    env = dict(os.environ, EMBEDDENATOR_SIMD='sse9')
    out = subprocess.run([sys.executable, '-c', 'import embeddenator.vsa'], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "EMBEDDENATOR_SIMD='sse9' is not a SIMD path" in out.stderr


def test_forcing_scalar_through_the_environment():
    env = dict(os.environ, EMBEDDENATOR_SIMD='scalar')
    out = subprocess.run([sys.executable, '-c', 'import embeddenator.vsa as v; print(v.simd_path())'],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'scalar'


@pytest.mark.parametrize('name', ['scalar', 'avx2', 'avx512'])
def test_forcing_each_path_through_the_environment(name):
    """A supported path is used (and computes the same dot product); an unsupported one is a clear error."""
    code = ('import embeddenator.vsa as v; a = v.random(seed=1).to_packed(); b = v.random(seed=2).to_packed(); '
            'print(v.simd_path(), a.dot(b))')
    env = dict(os.environ, EMBEDDENATOR_SIMD=name)
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True)
    if name in vsa.available_paths():
        assert out.returncode == 0, out.stderr
        got_path, got_dot = out.stdout.split()
        assert got_path == name
        assert int(got_dot) == vsa.random(seed=1).dot(vsa.random(seed=2))
    else:
        assert out.returncode != 0
        assert 'this CPU supports only' in out.stderr


def test_the_dispatched_path_is_reported_through_obs():
    env = dict(os.environ, EMBEDDENATOR_SIMD='scalar')
    code = ('import embeddenator.vsa, json; from embeddenator import obs; '
            'print(json.dumps(obs.snapshot()["vsa_simd"]["series"][0]["value"]))')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True)
    reported = json.loads(out.stdout)
    assert reported['path'] == 'scalar'
    assert reported['available'].split(',') == list(vsa.available_paths())
