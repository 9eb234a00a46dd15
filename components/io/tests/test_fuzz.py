"""Mutated and random bytes at every reader: FormatError or a correct read, never anything else."""
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from embeddenator.io import fuzz

_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@pytest.fixture(scope='module')
def seeds(tmp_path_factory):
    return fuzz.seed_files(tmp_path_factory.mktemp('seeds'))


@settings(max_examples=150, deadline=None, suppress_health_check=_SUPPRESS)
@given(pick=st.integers(0, 1 << 16), seed=st.integers(0, 1 << 32), sign=st.booleans())
def test_mutated_files_never_crash_a_reader(seeds, tmp_path, pick, seed, sign):
    original = seeds[pick % len(seeds)]
    fuzz.fuzz_one(fuzz.mutate(original, random.Random(seed)), original, sign, tmp_path, {}, tmp_path)


@settings(max_examples=100, deadline=None, suppress_health_check=_SUPPRESS)
@given(data=st.binary(max_size=400), magic=st.booleans(), sign=st.booleans())
def test_random_bytes_never_crash_a_reader(tmp_path, data, magic, sign):
    fuzz.fuzz_one((b'EDN1' + data) if magic else data, None, sign, tmp_path, {}, tmp_path)


def test_valid_seed_files_are_accepted_by_their_reader(seeds, tmp_path):
    counts = {}
    for data in seeds:
        fuzz.fuzz_one(data, data, False, tmp_path, counts, tmp_path)
    assert counts['ok'] >= len(seeds)       # each file is read by at least its own reader


def test_time_budgeted_run_reports_cases():
    counts = fuzz.run(0.5, seed=3)
    assert counts['cases'] > 0 and counts.get('rejected', 0) > 0


def test_command_line_entry_point(capsys):
    assert fuzz.main(['--seconds', '0.2']) == 0
    assert '0 crashes' in capsys.readouterr().out
