"""Update cost against a full ingest, in the same run: does an update cost what changed, not the tree?

    python benchmarks/fs_update.py [--files 1000] [--file-kb 100] [--changed-percent 1] [--workers 2]

Generates a tree of `files` random files of `file_kb` KB each (default 1,000 x 100 KB = 100 MB, in 20 folders),
times `fs.ingest_to` of it, rewrites `changed-percent` of the files (same size, new random bytes, a new mtime),
times `update.update_to` on the engram and checks the result extracts the new tree bit for bit. The goal (issue
"Update in place"): the update takes at most 10% of the full ingest's time. Both timings come from one run on
the same machine, so the ratio holds where absolute times do not. `benchmarks/fs.py` calls `measure` and puts the
result under `update` in reports/bench/fs.json; run alone, this prints the dict as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

GOAL_RATIO = 0.10


def make_tree(root: Path, files: int, file_kb: int, folders: int = 20) -> Path:
    """`files` files of random bytes, `file_kb` KB each, spread over `folders` folders; mtimes an hour old, so
    the update's quick check (size and mtime) decides without hashing."""
    stamp = time.time_ns() - 3600 * 10**9
    for i in range(files):
        path = root / f'd{i % folders:02d}' / f'f{i:05d}.bin'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(file_kb * 1024))
        os.utime(path, ns=(stamp, stamp))
    return root


def measure(scratch: Path, files: int = 1000, file_kb: int = 100, changed_percent: float = 1.0,
            workers: int = 2) -> dict:
    """Ingest, change, update, extract-check; returns seconds, ratio, verdict and counts."""
    from embeddenator import fs
    from embeddenator.fs.update import update_to
    src = make_tree(scratch / 'src', files, file_kb)
    target = scratch / 'tree.engram'
    start = time.perf_counter()
    fs.ingest_to(src, target, workers=workers)
    ingest_s = time.perf_counter() - start
    ingest_bytes = target.stat().st_size
    changed = max(1, round(files * changed_percent / 100))
    step = files // changed
    for i in range(0, step * changed, step):
        path = src / f'd{i % 20:02d}' / f'f{i:05d}.bin'
        path.write_bytes(os.urandom(file_kb * 1024))
    start = time.perf_counter()
    _, counts = update_to(target, src, workers=workers)
    update_s = time.perf_counter() - start
    out = scratch / 'out'
    fs.extract(fs.load(target), out)
    same = all((out / p.relative_to(src)).read_bytes() == p.read_bytes() for p in src.rglob('*.bin'))
    ratio = update_s / ingest_s
    return {'files': files, 'tree_mb': round(files * file_kb * 1024 / 1e6, 1), 'changed_files': changed,
            'ingest_seconds': round(ingest_s, 3), 'update_seconds': round(update_s, 3), 'ratio': round(ratio, 4),
            'goal_ratio': GOAL_RATIO, 'verdict': 'pass' if ratio <= GOAL_RATIO and same else 'fail',
            'bit_perfect': same, 'engram_bytes_after_ingest': ingest_bytes,
            'appended_bytes': target.stat().st_size - ingest_bytes, 'workers': workers, **counts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, default=1000)
    parser.add_argument('--file-kb', type=int, default=100)
    parser.add_argument('--changed-percent', type=float, default=1.0)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='fs-update-bench-') as scratch:
        result = measure(Path(scratch), args.files, args.file_kb, args.changed_percent, args.workers)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0 if result['verdict'] == 'pass' else 1


if __name__ == '__main__':
    sys.exit(main())
