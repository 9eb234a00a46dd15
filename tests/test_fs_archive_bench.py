"""The archive benchmark (benchmarks.fs_archive) on a tiny tree, and how its profile charges time to categories."""
import shutil

import pytest

from benchmarks import fs_archive


class FakeStats:
    """The shape of `pstats.Stats.stats`: func -> (cc, nc, tottime, cumtime, {caller: (cc, nc, tt, cumtime)})."""

    def __init__(self, stats):
        self.stats = stats


def test_builtins_are_charged_by_name_or_through_numpy_helpers_to_the_code_that_called_them():
    encode = ('/src/embeddenator/fs/codec.py', 10, 'encode_chunks')
    decode = ('/src/embeddenator/fs/codec.py', 90, 'decode')
    wrap = ('/venv/lib/numpy/_core/fromnumeric.py', 50, '_wrapfunc')
    take = ('~', 0, "<method 'take' of 'numpy.ndarray' objects>")
    sha = ('~', 0, '<built-in method _hashlib.openssl_sha256>')
    pwrite = ('~', 0, '<built-in method posix.pwrite>')
    mine = ('/src/embeddenator/fs/ingest.py', 5, 'assemble')
    digests = ('/src/embeddenator/fs/worker.py', 70, 'chunk_digests')
    listcomp = ('/src/embeddenator/fs/worker.py', 72, '<listcomp>')
    stats = FakeStats({
        encode: (1, 1, 0.5, 4.0, {}), decode: (1, 1, 0.25, 2.0, {}), mine: (1, 1, 0.125, 0.125, {}),
        wrap: (2, 2, 0.0, 4.5, {encode: (1, 1, 0.0, 3.0), decode: (1, 1, 0.0, 1.5)}),
        take: (2, 2, 3.0, 3.0, {wrap: (2, 2, 3.0, 3.0)}),
        sha: (1, 1, 1.0, 1.0, {mine: (1, 1, 1.0, 1.0)}),
        pwrite: (1, 1, 0.5, 0.5, {mine: (1, 1, 0.5, 0.5)}),
        digests: (1, 1, 0.0, 0.25, {}), listcomp: (1, 1, 0.25, 0.25, {digests: (1, 1, 0.25, 0.25)}),
    })
    out = fs_archive.breakdown(stats)
    assert out['hashing']['seconds'] == 1.25 and out['writing']['seconds'] == 0.5   # the comprehension's too
    assert out['python (other)']['seconds'] == 0.125
    # take's 3 s pass through the wrapper to its callers, split by the time under each (3.0 : 1.5)
    assert out['encoding']['seconds'] == pytest.approx(0.5 + 2.0, abs=0.002)
    assert out['decode-verify']['seconds'] == pytest.approx(0.25 + 1.0, abs=0.002)
    assert abs(sum(v['share'] for v in out.values()) - 1) < 0.01
    assert list(out)[0] in ('encoding', 'decode-verify')             # the largest first: what bounds the run


@pytest.mark.skipif(not (shutil.which('tar') and shutil.which('zstd')),
                    reason='needs tar and zstd (.ci/run installs zstd)')
def test_a_tiny_tree_is_measured_against_tar_zstd_and_checked(tmp_path):
    src = tmp_path / 'src'
    (src / 'sub').mkdir(parents=True)
    for i in range(6):
        (src / 'sub' / f'f{i}.txt').write_bytes(bytes(f'file {i} '.encode() * (300 + 200 * i)))
    result = fs_archive.measure(tmp_path / 'scratch', [src], workers=1, repeat=2)
    assert result['bit_perfect'] and result['files'] == 6
    assert all(len(times) == 2 for times in result['runs'].values())
    assert result['ingest_seconds'] == min(result['runs']['ingest'])
    left = {p.name for p in (tmp_path / 'scratch').iterdir()}
    assert {'out', 'tree.engram'} <= left and not {'tar-out', 'tree.tar.zst'} & left     # only the last run's
    assert result['query'] == {'queried': 6, 'found_first': 6}
    assert result['reference']['tar_zst_bytes'] > 0 and result['engram_bytes'] > 0
    assert result['size_vs_tar_zst'] == round(result['engram_bytes'] / result['reference']['tar_zst_bytes'], 2)
    assert result['met']['size_vs_tar_zst'] == (result['size_vs_tar_zst'] <= 1.5)
    assert set(result['profile']) == {'ingest', 'extract'} and 'hashing' in result['profile']['extract']
    lines = fs_archive.summary(result)
    assert len(lines) == 4 and 'tar+zstd' in lines[1] and 'tar.zst' in lines[3]
