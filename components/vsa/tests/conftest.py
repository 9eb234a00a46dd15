"""Shared fixtures: every kernel test runs once per SIMD path this machine has.

With EMBEDDENATOR_SIMD set, only the path it chose at import runs (so CI can run the whole suite once per path
through the environment, exactly as a user would force it; a path the CPU lacks falls back to the widest it has).
"""
import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from embeddenator import vsa
from embeddenator.vsa import _kernels

# The `path` fixture only selects a SIMD path: nothing in it needs resetting between examples. Examples are
# capped so the whole suite, on three paths, stays well under a minute.
settings.register_profile('vsa', max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile('vsa')

PATHS = (vsa.simd_path(),) if os.environ.get('EMBEDDENATOR_SIMD') else _kernels.available_paths()
KINDS = {'sparse': vsa.SparseVec, 'packed': vsa.PackedVec, 'blocks': vsa.BlockSparseVec}
# Dimensions around every boundary the kernels care about: a word (64), an AVX2 register (256 bits = 4 words),
# an AVX-512 register (8 words) and a cache line of words (512 bits), plus smaller than all of them.
EDGE_DIMS = [1, 2, 7, 63, 64, 65, 127, 200, 255, 256, 257, 511, 512, 513, 1000, 1031]


@contextlib.contextmanager
def simd(path):
    """Run the body on `path`, restoring the previous path afterwards."""
    before = _kernels.simd_path()
    _kernels.set_simd_path(path)
    try:
        yield path
    finally:
        _kernels.set_simd_path(before)


@pytest.fixture(params=PATHS)
def path(request):
    with simd(request.param):
        yield request.param


def make_dense(dim, kind, seed):
    """A {-1, 0, +1} int8 vector: empty, full density, all +1, or random at a drawn density."""
    rng = np.random.default_rng(seed)
    if kind == 'empty':
        return np.zeros(dim, np.int8)
    if kind == 'full':
        return rng.choice(np.array([-1, 1], np.int8), size=dim)
    if kind == 'plus':
        return np.ones(dim, np.int8)
    density = {'sparse': 0.02, 'mid': 0.3, 'dense': 0.9}[kind]
    return (rng.choice(np.array([-1, 1], np.int8), size=dim) * (rng.random(dim) < density)).astype(np.int8)


dims = st.one_of(st.sampled_from(EDGE_DIMS), st.integers(1, 1200))
kinds = st.sampled_from(['empty', 'full', 'plus', 'sparse', 'sparse', 'mid', 'dense'])
seeds = st.integers(0, 2**32 - 1)


@st.composite
def dense_vectors(draw, count=1, dim=None):
    """`count` dense int8 vectors of one (drawn) dimension."""
    d = dim if dim is not None else draw(dims)
    return [make_dense(d, draw(kinds), draw(seeds)) for _ in range(count)]
