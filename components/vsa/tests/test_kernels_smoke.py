import functools
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


# Forcing runs in a fresh interpreter: the path is chosen once, at import. `-W error::RuntimeWarning` would turn the
# warning into an import failure, so the child records warnings and prints them after its results.
FORCED = """
import json, warnings
warnings.simplefilter('always')
with warnings.catch_warnings(record=True) as caught:
    import embeddenator.vsa as v
a, b = v.random(seed=1), v.random(seed=2)
print(json.dumps({'path': v.simd_path(), 'available': list(v.available_paths()),
                  'dot': a.to_packed().dot(b.to_packed()), 'popcount': v.popcount(a.to_packed().pos_words),
                  'warnings': [f'{w.category.__name__}: {w.message}' for w in caught]}))
"""


def forced(**env_vars):
    """What a fresh interpreter reports after importing vsa with these environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('EMBEDDENATOR_')}
    env.update(env_vars)
    out = subprocess.run([sys.executable, '-c', FORCED], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@functools.cache
def machine_paths():
    """The paths this CPU has (this process's own list may be narrowed by EMBEDDENATOR_DISABLE_SIMD)."""
    return tuple(forced()['available'])


def expected_dot():
    a, b = (vsa.random(seed=s).to_dense().astype(np.int64) for s in (1, 2))
    return int(a @ b)


def test_forcing_an_unknown_path_warns_once_and_uses_the_widest():
    got = forced(EMBEDDENATOR_SIMD='sse9')
    assert got['path'] == machine_paths()[-1]
    assert got['warnings'] == [f"RuntimeWarning: EMBEDDENATOR_SIMD='sse9' is not a SIMD path (scalar, avx2, avx512); "
                               f"using {got['path']}"]
    assert got['dot'] == expected_dot()


def test_forcing_a_path_the_cpu_lacks_warns_once_and_falls_back_to_the_widest_it_has():
    """EMBEDDENATOR_DISABLE_SIMD hides paths from detection, so this runs on a machine that has every path too."""
    got = forced(EMBEDDENATOR_SIMD='avx512', EMBEDDENATOR_DISABLE_SIMD='avx512')
    widest = 'avx2' if 'avx2' in machine_paths() else 'scalar'
    assert (got['path'], got['available']) == (widest, [p for p in ('scalar', 'avx2') if p in machine_paths()])
    assert got['warnings'] == [f"RuntimeWarning: EMBEDDENATOR_SIMD='avx512' is not supported by this CPU "
                               f"(it has {', '.join(got['available'])}); using {widest}"]
    assert got['dot'] == expected_dot()
    assert got['popcount'] == int(np.bitwise_count(vsa.random(seed=1).to_packed().pos_words).sum())


def test_a_cpu_without_simd_runs_scalar():
    got = forced(EMBEDDENATOR_SIMD='avx2', EMBEDDENATOR_DISABLE_SIMD='avx2')   # avx512 builds on avx2: gone too
    assert (got['path'], got['available']) == ('scalar', ['scalar'])
    assert got['warnings'] == ["RuntimeWarning: EMBEDDENATOR_SIMD='avx2' is not supported by this CPU (it has "
                               "scalar); using scalar"]
    assert got['dot'] == expected_dot()


def test_an_unknown_name_to_disable_warns_and_is_ignored():
    got = forced(EMBEDDENATOR_DISABLE_SIMD='avx9, AVX512')
    assert got['available'] == [p for p in machine_paths() if p != 'avx512']
    assert got['warnings'] == ["RuntimeWarning: EMBEDDENATOR_DISABLE_SIMD names 'avx9', not a path that can be "
                               "disabled (avx2, avx512); ignored"]


def test_a_supported_path_and_no_setting_import_without_a_warning():
    assert forced(EMBEDDENATOR_SIMD=' Scalar ')['warnings'] == []
    got = forced()
    assert (got['path'], got['warnings']) == (machine_paths()[-1], [])


def test_forcing_scalar_through_the_environment():
    env = dict(os.environ, EMBEDDENATOR_SIMD='scalar')
    out = subprocess.run([sys.executable, '-c', 'import embeddenator.vsa as v; print(v.simd_path())'],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'scalar'


@pytest.mark.parametrize('name', ['scalar', 'avx2', 'avx512'])
def test_forcing_each_path_through_the_environment(name):
    """A supported path is used; one the CPU lacks warns and uses the widest it has; both compute the same dot."""
    got = forced(EMBEDDENATOR_SIMD=name)
    assert got['dot'] == expected_dot()
    if name in machine_paths():
        assert (got['path'], got['warnings']) == (name, [])
    else:
        assert got['path'] == machine_paths()[-1]
        assert len(got['warnings']) == 1 and 'is not supported by this CPU' in got['warnings'][0]


def test_the_dispatched_path_is_reported_through_obs():
    env = dict(os.environ, EMBEDDENATOR_SIMD='scalar')
    code = ('import embeddenator.vsa, json; from embeddenator import obs; '
            'print(json.dumps(obs.snapshot()["vsa_simd"]["series"][0]["value"]))')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True)
    reported = json.loads(out.stdout)
    assert reported['path'] == 'scalar'
    assert reported['available'].split(',') == list(vsa.available_paths())


def test_the_choice_rules_in_one_place():
    """The pure rules behind the import: requested path if present, else the widest present, with the reason."""
    from embeddenator.vsa import _kernels
    both = ('scalar', 'avx2')
    assert _kernels._chosen_path('', both) == ('avx2', None)
    assert _kernels._chosen_path(' AVX2 ', both) == ('avx2', None)
    assert _kernels._chosen_path('scalar', both) == ('scalar', None)
    assert _kernels._chosen_path('avx512', ('scalar',))[0] == 'scalar'
    assert _kernels._hidden_features('') == (0, None)
    assert _kernels._hidden_features('avx512, ,')[1] is None
    bits, why = _kernels._hidden_features('x,avx2,y')
    assert bits == _kernels._hidden_features('avx2,avx512')[0]
    assert why.startswith("EMBEDDENATOR_DISABLE_SIMD names 'x', 'y', not a path")
