"""Holographic filesystem benchmark: ingest and extract a real tree nobody here wrote, and the hierarchy at scale.

    python benchmarks/fs.py [--tree DIR] [--workers 2] [--scale 10000,100000,1000000] [--memory-tree-mb 1000]
                            [--archive-tree DIR ...] [--archive-only]

The default tree is this Python's standard library source (without site-packages, the test suite, the static
library folder and compiled extensions): a few thousand files, about 50 MB. Measured in the same run:

- ingest (scan, encode in worker processes, decode-verify, write the engram atomically) and extract (load,
  decode, apply corrections, SHA-256 every file, write) in MB/s of file content, against the issue's floors
  (5 and 10 MB/s) and the reference implementation (0.06 and 0.02 MB/s), and as a fraction of a plain
  `shutil.copytree` of the same tree (the same-run reference: what the disk and page cache allow);
- bit-perfection (every extracted file compared with its source), storage overhead (engram bytes over content
  bytes, reference 3,400%), and the fraction of bytes right before corrections;
- the hierarchy builder over 10^4 / 10^5 / 10^6 synthetic items (200 non-zeros each, 1,024 directories);
- peak RSS of `embeddenator ingest` and `embeddenator extract` run as child processes (each measured with
  `os.wait4` from a small launcher, which covers the child and the workers it waited for), on the same tree and, with
  `--memory-tree-mb N`, on a generated mixed tree of about N MB (large random files, a sparse file, many small
  files): the issue's bound is 300 MB for a 1,000 MB tree;
- for the record, the same tree through a superposed codec (two bits bundled into each trit, chunk 2,500):
  what bundling overlapping supports costs in bytes right before corrections and in storage;
- the update cost (`benchmarks/fs_update.py`): 1% of a 100 MB tree of 1,000 files rewritten, the update timed
  against a full ingest of the same tree in the same run (goal: at most 10%), under `update`;
- archive-class speed and size (`benchmarks/fs_archive.py`): ingest, extract and engram size against
  `tar -c | zstd -1 -T0` on a tree of many small system files (zoneinfo, i18n, X11, git-core), with a profile
  that names what bounds each goal not reached, under `archive`. `--archive-only` runs just this part and
  replaces only that section of reports/bench/fs.json.

Writes reports/bench/fs.json (`verdict`, `summary`, every figure). Timings are single runs on a shared machine.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import subprocess
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np

from embeddenator import fs, vsa
from embeddenator.fs.hierarchy import Sparse, build
from tasks.core.files import replace_file
from fs_update import measure as measure_update     # benchmarks/fs_update.py: update cost against a full ingest
import fs_archive                                    # benchmarks/fs_archive.py: against tar | zstd, with a profile

REFERENCE = {'ingest_mb_s': 0.06, 'extract_mb_s': 0.02, 'overhead_percent': 3400.0}
FLOOR = {'ingest_mb_s': 5.0, 'extract_mb_s': 10.0}
SKIP = {'site-packages', 'test', 'lib-dynload', '__pycache__'}
SUPERPOSED = fs.ChunkCodec(chunk_size=2500)     # two bits per trit: half the codebook, lossy before corrections
OUT = Path(__file__).resolve().parent.parent / 'reports' / 'bench' / 'fs.json'


def stdlib_sources(root: Path) -> list[Path]:
    return [p for p in sorted(root.iterdir()) if p.name not in SKIP and not p.name.startswith('config-')]


def tree_bytes(sources: list[Path]) -> tuple[int, int]:
    files = size = 0
    for src in sources:
        for p in [src] if src.is_file() else src.rglob('*'):
            if p.is_file() and not p.is_symlink():
                files, size = files + 1, size + p.stat().st_size
    return files, size


def same_tree(sources: list[Path], out: Path) -> bool:
    for src in sources:
        pairs = [(src, out / src.name)] if src.is_file() else [
            (p, out / src.name / p.relative_to(src)) for p in src.rglob('*') if p.is_file() and not p.is_symlink()]
        if not all(filecmp.cmp(a, b, shallow=False) for a, b in pairs):
            return False
    return True


def measure_tree(sources: list[Path], workers: int, scratch: Path, codec: fs.ChunkCodec | None = None) -> dict:
    files, size = tree_bytes(sources)
    copy = scratch / 'copy'
    copy.mkdir()
    t0 = time.perf_counter()
    for src in sources:
        if src.is_dir():
            shutil.copytree(src, copy / src.name, symlinks=True)
        else:
            shutil.copy2(src, copy / src.name)
    copy_s = time.perf_counter() - t0
    engram_path = scratch / 'tree.engram'
    t0 = time.perf_counter()
    engram = fs.ingest_to(sources, engram_path, workers=workers, codec=codec)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fs.extract(fs.load(engram_path), scratch / 'out')
    extract_s = time.perf_counter() - t0
    summary = engram.summary()
    mb = summary['bytes'] / 1e6
    return {
        'files': summary['files'], 'files_on_disk': files, 'bytes': summary['bytes'], 'bytes_on_disk': size,
        'chunks': summary['chunks'], 'unique_chunks': summary['unique_chunks'],
        'ingest_seconds': round(ingest_s, 3), 'extract_seconds': round(extract_s, 3), 'copy_seconds': round(copy_s, 3),
        'ingest_mb_s': round(mb / ingest_s, 2), 'extract_mb_s': round(mb / extract_s, 2),
        'copy_mb_s': round(mb / copy_s, 2),
        'ingest_vs_copy': round(copy_s / ingest_s, 3), 'extract_vs_copy': round(copy_s / extract_s, 3),
        'ingest_vs_reference': round(mb / ingest_s / REFERENCE['ingest_mb_s'], 1),
        'extract_vs_reference': round(mb / extract_s / REFERENCE['extract_mb_s'], 1),
        'engram_bytes': engram_path.stat().st_size,
        'overhead_percent': round(100 * (engram_path.stat().st_size - summary['bytes']) / summary['bytes'], 1),
        'recovered_fraction': summary['recovered_bytes'] / summary['bytes'],
        'corrections': summary['corrections'], 'correction_bytes': summary['correction_bytes'],
        'bit_perfect': same_tree(sources, scratch / 'out'),
    }


_LAUNCHER = (
    'import os, subprocess, sys\n'
    'proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n'
    '_, status, usage = os.wait4(proc.pid, 0)\n'
    'print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n')


def run_peak_rss(argv: list[str]) -> tuple[float, float]:
    """Run `embeddenator ARGV` as a child; (seconds, peak RSS in MB of the child and the workers it waited for).

    Linux counts into a child's ru_maxrss the RSS of the process that spawned it (the address space it exec'ed
    from), so the command is started by a small launcher process and measured there, not from this one (which
    has held engrams in memory by now)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, '-c', _LAUNCHER, sys.executable, '-m', 'embeddenator.cli', *argv],
                         capture_output=True, text=True, check=True)
    code, max_kb = map(int, out.stdout.split())
    if code != 0:
        raise SystemExit(f'fs benchmark: embeddenator {" ".join(argv)} exited {code}')
    return time.perf_counter() - t0, max_kb / 1024                  # Linux reports kilobytes


def measure_memory(sources: list[Path], workers: int, scratch: Path) -> dict:
    """Peak RSS of the ingest and extract commands on `sources` (each in its own child process)."""
    scratch.mkdir(parents=True, exist_ok=True)
    engram = scratch / 'mem.engram'
    ingest_s, ingest_mb = run_peak_rss(['ingest', *map(str, sources), '-o', str(engram), '--workers', str(workers)])
    extract_s, extract_mb = run_peak_rss(['extract', str(engram), '-o', str(scratch / 'mem-out')])
    apparent = sum(p.lstat().st_size for src in sources for p in ([src] if src.is_file() else src.rglob('*'))
                   if p.is_file() and not p.is_symlink())
    return {'tree_mb': round(apparent / 1e6, 1), 'engram_mb': round(engram.stat().st_size / 1e6, 1),
            'ingest_peak_rss_mb': round(ingest_mb, 1), 'extract_peak_rss_mb': round(extract_mb, 1),
            'ingest_seconds': round(ingest_s, 2), 'extract_seconds': round(extract_s, 2)}


def mixed_tree(root: Path, total_mb: int) -> Path:
    """About `total_mb` MB of apparent size: 40% in two large random files, 20% in one sparse file with 4 MB of
    data, 40% in small files of 4 to 60 KB (random, a fifth of them repeated)."""
    rng = np.random.default_rng(7)
    root.mkdir(parents=True)
    for i in range(2):
        with open(root / f'large{i}.bin', 'wb') as fh:
            for _ in range(total_mb // 5):
                fh.write(rng.bytes(1 << 20))
    with open(root / 'sparse.img', 'wb') as fh:
        fh.truncate(total_mb // 5 << 20)
        for k in range(4):
            fh.seek((k * total_mb // 20) << 20)
            fh.write(rng.bytes(1 << 20))
    small, made, repeat = total_mb * 2 // 5 << 20, 0, b''
    for k in range(1 << 30):
        if made >= small:
            break
        size = int(rng.integers(4 << 10, 60 << 10))
        data = repeat if k % 5 == 4 and repeat else rng.bytes(size)
        folder = root / f'd{k % 64:02}'
        folder.mkdir(exist_ok=True)
        (folder / f'f{k}.dat').write_bytes(data)
        made, repeat = made + len(data), data
    return root


def synthetic_items(n: int, dim: int, nnz: int, seed: int = 0):
    """n items of `nnz` random signed positions, spread over 32 x 32 directories; generated in batches."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, 8192):
        m = min(8192, n - start)
        idx = np.sort(rng.integers(0, dim, (m, nnz), dtype=np.int32), axis=1)
        signs = rng.choice(np.array([-1, 1], np.int8), (m, nnz))
        for i in range(m):
            k = start + i
            yield f'd{k % 32}/e{(k // 32) % 32}'.encode(), Sparse(idx[i], signs[i])


def measure_scale(sizes: list[int], dim: int = vsa.DEFAULT_DIM, nnz: int = vsa.DEFAULT_NNZ) -> list[dict]:
    out = []
    for n in sizes:
        t0 = time.perf_counter()
        tree = build([], synthetic_items(n, dim, nnz), dim)
        seconds = time.perf_counter() - t0
        out.append({'items': n, 'sub_engrams': len(tree), 'seconds': round(seconds, 2),
                    'items_per_s': round(n / seconds), 'max_nnz': max(v.nnz for v in tree.values()),
                    'root_nnz': tree[b''].nnz})
    return out


def verdict(tree: dict, scale: list[dict]) -> tuple[str, str]:
    ok = (tree['bit_perfect'] and tree['ingest_mb_s'] >= FLOOR['ingest_mb_s']
          and tree['extract_mb_s'] >= FLOOR['extract_mb_s'] and tree['overhead_percent'] < REFERENCE['overhead_percent']
          and all(s['max_nnz'] <= vsa.DEFAULT_NNZ for s in scale))
    summary = (f"{tree['files']} files, {tree['bytes'] / 1e6:.1f} MB: ingest {tree['ingest_mb_s']} MB/s, extract "
               f"{tree['extract_mb_s']} MB/s, {'bit-perfect' if tree['bit_perfect'] else 'NOT bit-perfect'}, "
               f"overhead {tree['overhead_percent']}%, {100 * tree['recovered_fraction']:.2f}% of bytes right before "
               f"corrections; hierarchy up to {max((s['items'] for s in scale), default=0):,} items")
    return ('pass' if ok else 'fail'), summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tree', type=Path, default=None, help='a folder to ingest (default: the stdlib source)')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--scale', default='10000,100000,1000000', help='comma-separated item counts ("" to skip)')
    parser.add_argument('--memory-tree-mb', type=int, default=0, metavar='N',
                        help='also measure peak RSS on a generated mixed tree of about N MB (0: skip)')
    parser.add_argument('--archive-tree', type=Path, action='append', metavar='DIR',
                        help='a folder for the archive comparison (repeatable; default: system files)')
    parser.add_argument('--archive-scratch', type=Path, metavar='DIR',
                        help='where the archive comparison writes (default: the temporary folder; /dev/shm leaves '
                        'the disk out)')
    parser.add_argument('--archive-only', action='store_true',
                        help='run only the archive comparison and update its section of reports/bench/fs.json')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='fs-bench-', dir=args.archive_scratch) as scratch:
        archive = fs_archive.measure(Path(scratch), args.archive_tree, args.workers)
    print('\n'.join(f'fs benchmark: {line}' for line in fs_archive.summary(archive)), file=sys.stderr)
    if args.archive_only:
        previous = json.loads(OUT.read_text()) if OUT.exists() else {}
        replace_file(OUT, json.dumps({**previous, 'archive': archive}, indent=2, sort_keys=True) + '\n')
        return 0 if archive['verdict'] == 'pass' else 1
    sources = [args.tree] if args.tree else stdlib_sources(Path(sysconfig.get_paths()['stdlib']))
    with tempfile.TemporaryDirectory(prefix='fs-bench-') as scratch:
        tree = measure_tree(sources, args.workers, Path(scratch))
    with tempfile.TemporaryDirectory(prefix='fs-bench-') as scratch:
        memory = {'tree': measure_memory(sources, args.workers, Path(scratch))}
        if args.memory_tree_mb > 0:
            mixed = mixed_tree(Path(scratch) / 'mixed', args.memory_tree_mb)
            memory['mixed'] = measure_memory([mixed], args.workers, Path(scratch) / 'mixed-run')
    with tempfile.TemporaryDirectory(prefix='fs-bench-') as scratch:     # the design alternative, for the record
        superposed = measure_tree(sources, args.workers, Path(scratch), SUPERPOSED)
    scale = measure_scale([int(s) for s in args.scale.split(',') if s])
    with tempfile.TemporaryDirectory(prefix='fs-bench-') as scratch:
        update = measure_update(Path(scratch), workers=args.workers)
    result_verdict, summary = verdict(tree, scale)
    result = {'verdict': result_verdict, 'summary': summary, 'tree': tree, 'scale': scale, 'memory': memory,
              'update': update, 'archive': archive,
              'superposed': {'codec': SUPERPOSED.describe(), 'bits_per_trit': SUPERPOSED.overlap, **superposed},
              'reference': REFERENCE, 'floor': FLOOR, 'workers': args.workers, 'simd': vsa.simd_path(),
              'codec': fs.ChunkCodec().describe(), 'source': 'stdlib' if not args.tree else str(args.tree),
              'machine': {'python': platform.python_version(), 'cpus': os.cpu_count()}}
    replace_file(OUT, json.dumps(result, indent=2, sort_keys=True) + '\n')
    print(f'fs benchmark: {result_verdict}: {summary}', file=sys.stderr)
    print(f"fs benchmark: update of {update['changed_files']} of {update['files']} files ({update['tree_mb']} MB): "
          f"{update['update_seconds']} s against ingest {update['ingest_seconds']} s, ratio {update['ratio']} "
          f"(goal <= {update['goal_ratio']}): {update['verdict']}", file=sys.stderr)
    for name, m in memory.items():
        print(f"fs benchmark: peak RSS on {name} ({m['tree_mb']} MB): ingest {m['ingest_peak_rss_mb']} MB, extract "
              f"{m['extract_peak_rss_mb']} MB", file=sys.stderr)
    return 0 if result_verdict == 'pass' else 1


if __name__ == '__main__':
    sys.exit(main())
