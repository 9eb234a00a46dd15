import numpy as np
import pytest

from embeddenator.fs.corrections import Correction, apply_correction, make_correction

RNG = np.random.default_rng(7)


def _damaged(original, positions):
    out = original.copy()
    out[positions] ^= 0x5A
    return out


def test_equal_chunks_need_no_correction():
    chunk = RNG.integers(0, 256, 100, dtype=np.uint8)
    assert make_correction(chunk, chunk) is None


@pytest.mark.parametrize('positions, kind', [([3, 90], 'flips'), (list(range(10, 40)), 'block'),
                                             (list(range(0, 100, 2)), 'verbatim')])
def test_the_cheapest_record_is_chosen_and_restores_the_bytes(positions, kind):
    original = RNG.integers(0, 256, 100, dtype=np.uint8)
    decoded = _damaged(original, positions)
    fix = make_correction(decoded, original)
    assert fix.kind == kind
    assert np.array_equal(apply_correction(decoded, fix), original)
    assert np.array_equal(decoded, _damaged(original, positions))       # the input is left alone


def test_json_round_trip_and_unknown_kinds():
    fix = Correction('flips', b'\x01\x00\xff')
    assert Correction.from_json(fix.to_json()) == fix
    with pytest.raises(ValueError, match='unknown correction kind'):
        Correction.from_json(['xor', ''])
