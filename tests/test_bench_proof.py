"""The proof's C-level injection (benchmarks.prove_gate): a patched copy of the kernel sources, the tree untouched."""
from pathlib import Path

from benchmarks import prove_gate

ROOT = Path(__file__).resolve().parents[1]


def test_the_patched_copy_rescans_a_share_of_the_rows_and_leaves_the_tree_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    before = {p: p.read_bytes() for p in (ROOT / 'pyx').glob('*.h')}
    stage = prove_gate.patched_sources(tmp_path / 'stage')
    patched = [h for h in stage.rglob('*.h') if prove_gate.MACRO in h.read_text(encoding='utf-8')]
    assert len(patched) == 1
    text = patched[0].read_text(encoding='utf-8')
    assert 'static inline void krn_scan_measured(int path,' in text
    assert text.count(prove_gate.SCAN_DISPATCHER) == 1  # the new dispatcher, calling the measured one twice
    assert text.count('krn_scan_measured(path,') == 2
    assert {p: p.read_bytes() for p in (ROOT / 'pyx').glob('*.h')} == before


def test_each_mechanism_has_a_case_that_it_slows():
    assert prove_gate.parse([]).case == 'simd/top_k-1k/avx2'
    assert prove_gate.parse(['--mechanism', 'harness']).case == 'vsa-ops/bind/packed'
    assert prove_gate.parse(['--mechanism', 'harness', '--case', 'simd/dot/avx2']).case == 'simd/dot/avx2'
