"""Shared chunks: what content-defined chunk boundaries would save over the fixed 1,250-byte chunks.

    python benchmarks/fs_dedup.py [--tree DIR] [--seed 18] [--tree-b DIR [--stdlib-layout]] [--out FILE]

Version A is a real tree (default: this Python's standard library source, picked as benchmarks/fs.py picks it);
version B is A after seeded, deterministic edits of the kind a source tree sees between two releases: a few
lines inserted or deleted near the top of about 10% of the files, a line changed in the middle of about 10%,
a few files added (a copy of an existing module, edited) and a few deleted. A and B are held together, as an
engram holds a tree and its update (``--tree-b`` takes a real version B instead, e.g. another Python release's
standard library), and each chunking is scored by what the engram would store:

- ``rows``: unique chunks (BLAKE2b-128 digest, the engram's dedup key): one codebook row of D trits each,
  ``row_bytes`` = 2 bitplanes of H 64-bit words (2,560 bytes at D = 10,000) whatever the chunk's length;
- ``unique_bytes``: the content bytes of those unique chunks (`info`'s deduplicated size);
- ``update_rows`` / ``update_bytes``: what B adds to an engram already holding A (the cost of the update);
- for the fixed chunks and the chunking with the fewest rows: zstd (level 3) of the unique chunks as encoded
  codebook rows and as plain content (rows of trits barely compress, so an engram pays per row).

Chunkings: ``fixed`` (every L = 1,250 bytes from the start of a file, as the codec cuts today) and FastCDC with
a maximum chunk of L (the codec's limit; shorter chunks are padded by the codec, the manifest would keep their
lengths) at a few min/avg settings, through ``pyfastcdc`` (FastCDC 2020, Cython) and, when installed, ``fastcdc``
(FastCDC 2016, Cython). Chunking speed (MB/s over A, boundaries only, single run) is measured for each.
Writes reports/bench/fs_dedup.json and prints one line per chunking.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import sysconfig
import time
from pathlib import Path

from embeddenator import fs
from embeddenator.fs import chunking
from embeddenator.fs.corrections import digest
from tasks.core.files import replace_file


OUT = Path(__file__).resolve().parent.parent / 'reports' / 'bench' / 'fs_dedup.json'
L = fs.ChunkCodec().chunk_size
# (min, avg, normalized chunking level); max is always L. fastcdc (no NC parameter) takes the NC 1 rows.
SETTINGS = [(64, 256, 1), (128, 512, 1), (256, 512, 1), (256, 1024, 1), (512, 1024, 1), (384, 1024, 2), (512, 1024, 2),
            (512, 1024, 3)]
EDITED_FRACTION = 0.10
LEFT_OUT = {'site-packages', 'test', 'lib-dynload', '__pycache__'}     # as benchmarks/fs.py picks the stdlib


def stdlib_sources(root: Path) -> list[Path]:
    """The standard library's own source under `root`: no installed packages, test suite or compiled parts."""
    return [p for p in sorted(root.iterdir()) if p.name not in LEFT_OUT and not p.name.startswith('config-')]


def read_tree(sources: list[Path]) -> dict[str, bytes]:
    """Every regular file under the sources, by relative path (symlinks left out, as the chunking ignores them)."""
    files = {}
    for src in sources:
        for p in [src] if src.is_file() else sorted(src.rglob('*')):
            if p.is_file() and not p.is_symlink() and '__pycache__' not in p.parts:
                files[str(p.relative_to(src.parent))] = p.read_bytes()
    return files


def _line(rng: random.Random) -> bytes:
    word = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz_') for _ in range(rng.randint(4, 12)))
    return rng.choice([f'import {word}\n', f'# {word}: see the release notes\n', f'{word} = {rng.randint(0, 999)}\n',
                       f'__all__.append({word!r})\n']).encode()


def edit_tree(a: dict[str, bytes], seed: int) -> tuple[dict[str, bytes], dict]:
    """Version B: A with seeded edits near the top and in the middle of some files, files added and deleted."""
    rng, b = random.Random(seed), dict(a)
    names = sorted(n for n, data in a.items() if b'\n' in data)
    top, middle = (set(rng.sample(names, int(EDITED_FRACTION * len(names)))) for _ in range(2))
    for name in sorted(top | middle):
        lines = b[name].splitlines(keepends=True)
        if name in top:
            at = rng.randint(0, min(10, len(lines)))
            if rng.random() < 0.7:
                lines[at:at] = [_line(rng) for _ in range(rng.randint(1, 3))]
            else:
                del lines[at: at + rng.randint(1, 2)]
        if name in middle and lines:
            at = len(lines) // 2 + rng.randint(-len(lines) // 4, len(lines) // 4)
            at = min(max(at, 0), len(lines) - 1)
            lines[at] = lines[at].rstrip(b'\n') + b'  # changed\n'
        b[name] = b''.join(lines)
    deleted = rng.sample(sorted(set(names) - top - middle), 5)
    for name in deleted:
        del b[name]
    added = []
    for name in rng.sample(names, 5):                    # a new module made from an old one, then edited
        lines = a[name].splitlines(keepends=True)
        lines[:0] = [b'"""A new module, started from %s."""\n' % name.encode()]
        new = name.rsplit('.', 1)[0] + '_new.' + name.rsplit('.', 1)[-1]
        b[new] = b''.join(lines)
        added.append(new)
    return b, {'seed': seed, 'files_a': len(a), 'files_b': len(b), 'edited_top': len(top),
               'edited_middle': len(middle), 'edited_both': len(top & middle), 'added': len(added),
               'deleted': len(deleted)}


def chunkers() -> dict[str, object]:
    """name -> function(bytes) -> chunk lengths; a library that is not installed is left out (and named)."""
    out = {'fixed': lambda d: chunking.fixed_lengths(len(d), L)}
    for lo, avg, nc in SETTINGS:
        cdc = chunking.ContentDefined(lo, avg, L, nc)
        out[f'pyfastcdc min={lo} avg={avg} nc={nc}'] = cdc.lengths
    try:
        import fastcdc
    except ImportError:
        print('fastcdc is not installed: only pyfastcdc is measured (pip install fastcdc)', file=sys.stderr)
        return out
    for lo, avg, _ in (s for s in SETTINGS if s[2] == 1):
        out[f'fastcdc min={lo} avg={avg}'] = lambda d, lo=lo, avg=avg: (
            [ch.length for ch in fastcdc.fastcdc(d, lo, avg, L)] if d else [])
    return out


def chunk_digests(data: bytes, lengths: list[int]) -> list[tuple[bytes, int]]:
    return [(digest(c), len(c)) for c in chunking.split(data, lengths)]


def measure(cut, a: dict[str, bytes], b: dict[str, bytes], row_bytes: int) -> dict:
    seconds = float('inf')
    for _ in range(3):                                # best of three: the machine is shared
        start = time.perf_counter()
        cuts_a = {name: cut(data) for name, data in a.items()}
        seconds = min(seconds, time.perf_counter() - start)
    cuts_b = {name: cuts_a[name] if b[name] is a.get(name) else cut(data) for name, data in b.items()}
    seen_a = {d: n for name, data in a.items() for d, n in chunk_digests(data, cuts_a[name])}
    seen_ab = dict(seen_a)
    for name, data in b.items():
        seen_ab.update(chunk_digests(data, cuts_b[name]))
    chunks_a = sum(len(c) for c in cuts_a.values())
    rows, unique = len(seen_ab), sum(seen_ab.values())
    return {'rows': rows, 'unique_bytes': unique, 'rows_a': len(seen_a), 'unique_bytes_a': sum(seen_a.values()),
            'update_rows': rows - len(seen_a), 'update_bytes': unique - sum(seen_a.values()),
            'codebook_bytes': rows * row_bytes, 'update_codebook_bytes': (rows - len(seen_a)) * row_bytes,
            'mean_chunk_bytes': round(sum(len(d) for d in a.values()) / max(chunks_a, 1), 1),
            'chunk_mb_s': round(sum(len(d) for d in a.values()) / 1e6 / seconds, 1)}


def compressed(cut, a: dict[str, bytes], b: dict[str, bytes], codec: fs.ChunkCodec) -> dict:
    """zstd (level 3) of the unique chunks of A + B as codebook rows and as plain content: whether a packed
    codebook would pay per row (rows of ternary trits barely compress) or per content byte."""
    import numpy as np
    import zstandard
    unique: dict[bytes, bytes] = {}
    for tree in (a, b):
        for data in tree.values():
            for c in chunking.split(data, cut(data)):
                unique.setdefault(digest(c), c)
    chunks = list(unique.values())
    original = np.zeros((len(chunks), codec.chunk_size), dtype=np.uint8)
    for i, c in enumerate(chunks):
        original[i, :len(c)] = np.frombuffer(c, dtype=np.uint8)
    rows = codec.pack(*codec.encode_chunks(original, np.array([len(c) for c in chunks])))
    zstd = zstandard.ZstdCompressor(level=3)
    return {'codebook_zstd_bytes': len(zstd.compress(rows.tobytes())),
            'content_zstd_bytes': len(zstd.compress(b''.join(chunks)))}


def compare(results: dict, logical: int) -> None:
    """Each chunking's figures relative to the fixed chunks (negative: it stores less)."""
    base = results['fixed']
    for r in results.values():
        r['dedup_ratio'] = round(logical / r['unique_bytes'], 3)
        for key in ('rows', 'unique_bytes', 'rows_a', 'update_rows', 'update_bytes'):
            r[f'{key}_vs_fixed_percent'] = round(100 * (r[key] / base[key] - 1), 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tree', type=Path, default=None, help='version A (default: the stdlib source)')
    parser.add_argument('--tree-b', type=Path, default=None, metavar='DIR',
                        help='a real version B instead of the generated edits (without --tree: another stdlib folder, '
                             'picked the same way, e.g. another Python release\'s)')
    parser.add_argument('--seed', type=int, default=18)
    parser.add_argument('--stdlib-layout', action='store_true',
                        help='--tree and --tree-b are standard library folders: pick their files as for the default')
    parser.add_argument('--out', type=Path, default=OUT, help='the report (default: reports/bench/fs_dedup.json)')
    args = parser.parse_args(argv)
    pick = (lambda t: [t]) if args.tree and not args.stdlib_layout else stdlib_sources
    a = read_tree(pick(args.tree or Path(sysconfig.get_paths()['stdlib'])))
    if args.tree_b:
        b = read_tree(pick(args.tree_b))
        edits = {'version_b': str(args.tree_b), 'files_a': len(a), 'files_b': len(b),
                 'unchanged': sum(a.get(n) == d for n, d in b.items())}
    else:
        b, edits = edit_tree(a, args.seed)
    codec = fs.ChunkCodec()
    row_bytes = 2 * codec.half * 8
    cuts = chunkers()
    results = {name: measure(cut, a, b, row_bytes) for name, cut in cuts.items()}
    logical = sum(map(len, a.values())) + sum(map(len, b.values()))
    compare(results, logical)
    # the engram pays per row (a D-trit vector whatever the chunk's length): the best chunking has the fewest rows
    best = min((n for n in results if n != 'fixed'), key=lambda n: (results[n]['rows'], results[n]['unique_bytes']))
    fixed, pick = results['fixed'], results[best]
    for r, name in ((fixed, 'fixed'), (pick, best)):
        r.update(compressed(cuts[name], a, b, codec))
    for key in ('codebook_zstd_bytes', 'content_zstd_bytes'):
        pick[f'{key}_vs_fixed_percent'] = round(100 * (pick[key] / fixed[key] - 1), 1)
    summary = (f"A+B {logical / 1e6:.1f} MB logical: fixed {L} B chunks store {fixed['unique_bytes'] / 1e6:.2f} MB in "
               f"{fixed['rows']:,} rows; {best} stores {pick['unique_bytes'] / 1e6:.2f} MB "
               f"({pick['unique_bytes_vs_fixed_percent']:+.1f}%) in {pick['rows']:,} rows "
               f"({pick['rows_vs_fixed_percent']:+.1f}%); the update adds {pick['update_rows']:,} rows against "
               f"{fixed['update_rows']:,} ({pick['update_rows_vs_fixed_percent']:+.1f}%), A alone takes "
               f"{pick['rows_a_vs_fixed_percent']:+.1f}% rows; zstd of the unique chunks as rows "
               f"{pick['codebook_zstd_bytes_vs_fixed_percent']:+.1f}%, as content "
               f"{pick['content_zstd_bytes_vs_fixed_percent']:+.1f}%")
    report = {'summary': summary, 'edits': edits, 'logical_bytes': logical, 'chunk_limit': L, 'row_bytes': row_bytes,
              'codec': codec.describe(), 'chunkings': results, 'best': best,
              'settings_min_avg_nc': SETTINGS,
              'source': str(args.tree or 'stdlib'),
              'machine': {'python': platform.python_version(), 'cpus': os.cpu_count()}}
    replace_file(args.out, json.dumps(report, indent=2, sort_keys=True) + '\n')
    for name, r in results.items():
        print(f"{name:34} rows {r['rows']:>7,} ({r['rows_vs_fixed_percent']:+6.1f}%; A alone "
              f"{r['rows_a_vs_fixed_percent']:+6.1f}%)  stored {r['unique_bytes'] / 1e6:7.2f} MB "
              f"({r['unique_bytes_vs_fixed_percent']:+6.1f}%)  update adds {r['update_rows']:>6,} rows / "
              f"{r['update_bytes'] / 1e6:5.2f} MB ({r['update_bytes_vs_fixed_percent']:+6.1f}%)  mean chunk "
              f"{r['mean_chunk_bytes']:>6} B  {r['chunk_mb_s']:>6} MB/s", file=sys.stderr)
    print(f'fs dedup benchmark: {summary}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
