"""Archive-class speed and size: embeddenator against `tar | zstd -1 -T0` on the same tree, in the same run.

    python benchmarks/fs_archive.py [--tree DIR ...] [--workers 2] [--repeat 3] [--no-profile] [--scratch DIR]

The default tree is system files of the kind an archiver meets (many small files): /usr/share/zoneinfo,
/usr/share/i18n, /usr/share/X11 and /usr/lib/git-core, whichever exist (each appears under its own name, as it
would in a tar of them). The tree is read once first, so every timing sees a warm page cache. Measured:

- the reference, `tar -c | zstd -1 -T0` (archive) and `zstd -d | tar -x` (extract), and its .tar.zst size;
- `fs.ingest_to` and `fs.extract` of the same tree (`workers` processes; extraction's own writer threads);
- both sides in turn, `--repeat` times (3): each figure is the best of its runs, every time is in `runs`;
- MB/s of file content for each, the ratio of embeddenator's MB/s to the reference's, the engram's size over the
  .tar.zst size, each against its goal (ingest and extract at least 100 MB/s, engram at most 1.5 x .tar.zst);
- bit-perfection (every extracted file compared with its source) and query quality (a sample of stored files,
  each queried with its own content, must come first);
- a profile of one ingest and one extraction run in this process (one worker, one writer thread, cProfile):
  the share of time in walk/stat, file reads, hashing, encoding (file vectors), decode-verify, compression, writing,
  other file system calls (open, mkdir, symlink, metadata), and the Python around them, so a goal not reached
  names what bounds it. An extraction is bound by the disk, not the tool, when tar+zstd's extraction in the same
  run is as slow (at least DISK_BOUND of embeddenator's speed ratio, i.e. both wait on write-back): the summary
  says so. `--scratch` on a RAM disk (/dev/shm) takes the disk out and measures the tools alone.

`benchmarks/fs.py` calls `measure` and puts the result under `archive` in reports/bench/fs.json (`--archive-only`
runs just this part); run alone, this prints the dict as JSON.
"""
from __future__ import annotations

import argparse
import cProfile
import filecmp
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path
from unittest import mock

SYSTEM_TREE = ('/usr/share/zoneinfo', '/usr/share/i18n', '/usr/share/X11', '/usr/lib/git-core')
GOALS = {'ingest_mb_s': 100.0, 'extract_mb_s': 100.0, 'size_vs_tar_zst': 1.5}
REPEAT = 3                  # runs of each side, taken in turn; the best counts (a shared machine is noisy)
QUERY_SAMPLE = 20
DISK_BOUND = 0.8            # extract/tar-extract speed ratio from which both are taken to wait on the same disk

# What a profile entry's time is spent on, first match wins: (category, substrings of "file:function").
# Built-ins (numpy, hashlib, posix) are matched by their own name first, then by the function that called them.
CATEGORIES = (
    ('hashing', ('_hashlib', '_blake2', 'corrections.py:digest', 'chunk_digests', 'file_sha256', 'hash_zeros')),
    ('compression', ('zstd', 'zlib', 'store.py:compress', 'store.py:frame')),
    ('walk/stat', ('walk.py', 'posix.lstat', 'posix.stat', 'posix.scandir', 'posix.fstat', 'posix.listdir')),
    ('decode-verify', ('codec.py:decode', 'make_correction', 'apply_correction', ':_correct')),
    ('encoding', ('codec.py', 'bit_sums', 'keep_largest', 'worker.py:thin', 'worker.py:_first_in_order',
                  'worker.py:spread', 'worker.py:_vector', 'hierarchy.py')),
    ('file reads', ("'read' of '_io", "'readinto' of '_io", 'read_piece', 'posix.read', 'posix.preadv')),
    ('writing', ('posix.pwrite', 'posix.write', 'posix.fsync', 'posix.ftruncate', "'write' of '_io", 'atomic.py')),
    ('fs calls', ('posix.open', 'io.open', 'posix.close', 'posix.mkdir', 'posix.symlink', 'posix.chmod', 'posix.chown',
                  'posix.utime', 'posix.fchmod', 'posix.fchown', 'posix.rename', 'posix.link', 'posix.unlink',
                  'posix.rmdir', 'posix.mkfifo', 'dirfd.py', 'commit.py')),
)


def system_tree() -> list[Path]:
    """The default sources: those of SYSTEM_TREE this machine has."""
    return [Path(p) for p in SYSTEM_TREE if os.path.isdir(p)]


def tree_files(sources: list[Path]) -> list[Path]:
    return [p for src in sources for p in ([src] if src.is_file() else sorted(src.rglob('*')))
            if p.is_file() and not p.is_symlink()]


def warm(sources: list[Path]) -> tuple[int, int]:
    """Read every file once (a warm page cache for every timing); (files, bytes)."""
    files = tree_files(sources)
    size = 0
    for p in files:
        with open(p, 'rb') as fh:
            while block := fh.read(1 << 20):
                size += len(block)
    return len(files), size


def _timed(cmd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(['sh', '-c', f'set -e; {cmd}'], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run_tar(sources: list[Path], scratch: Path) -> tuple[float, float, int]:
    """(seconds of `tar -c | zstd -1 -T0`, of `zstd -d | tar -x`, .tar.zst bytes) of `sources` (paths kept relative
    to each one's parent); what it wrote is removed."""
    if not (shutil.which('tar') and shutil.which('zstd')):
        raise SystemExit('fs_archive: the reference needs tar and zstd on PATH (Debian: apt-get install zstd)')
    archive, out = scratch / 'tree.tar.zst', scratch / 'tar-out'
    members = ' '.join(f"-C '{src.parent}' '{src.name}'" for src in sources)
    create_s = _timed(f"tar -cf - {members} | zstd -1 -T0 -q -f -o '{archive}'")
    out.mkdir()
    extract_s = _timed(f"zstd -d -c -q '{archive}' | tar -xf - -C '{out}'")
    size = archive.stat().st_size
    shutil.rmtree(out)
    archive.unlink()
    return create_s, extract_s, size


def run_embeddenator(sources: list[Path], scratch: Path, workers: int, keep: bool) -> tuple[float, float]:
    """(seconds of `fs.ingest_to`, of `fs.extract`) of `sources`; the engram and the output are kept if `keep`."""
    from embeddenator import fs
    engram, out = scratch / 'tree.engram', scratch / 'out'
    t0 = time.perf_counter()
    fs.ingest_to(sources, engram, workers=workers)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fs.extract(fs.load(engram), out)
    extract_s = time.perf_counter() - t0
    if not keep:
        shutil.rmtree(out)
        engram.unlink()
    return ingest_s, extract_s


def same_tree(sources: list[Path], out: Path) -> bool:
    """Every file of `sources` equal to its extracted copy (a lone folder contributes its contents, several
    sources each appear under their own name)."""
    for src in sources:
        base = out if len(sources) == 1 and src.is_dir() else out / src.name
        for p in tree_files([src]):
            if not filecmp.cmp(p, base / p.relative_to(src), shallow=False):
                return False
    return True


def query_quality(engram, sample: int = QUERY_SAMPLE) -> dict:
    """Each of `sample` stored files (spread over the tree, at least one chunk of distinct content) queried with
    its own content: how many come first."""
    from embeddenator import fs
    files = [e for e in engram.files if e.size >= engram.codec.chunk_size]
    picked = files[:: max(1, len(files) // sample)][:sample]
    first = 0
    for e in picked:
        hits = fs.query(engram, fs.read_file(engram, e), k=1)['files']
        first += bool(hits) and hits[0].path == os.fsdecode(e.path)
    return {'queried': len(picked), 'found_first': first}


class _Inline:
    """A stand-in thread pool that runs each job at once in the calling thread (so cProfile sees it)."""

    def __init__(self, *_args):
        pass

    def submit(self, fn, *args):
        done = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as err:        # re-raised by .result(), as a real pool would
            done.set_exception(err)
        return done

    def shutdown(self, *args, **kwargs):
        pass


def _category(name: str) -> str | None:
    name = name.lower()
    return next((cat for cat, keys in CATEGORIES if any(k.lower() in name for k in keys)), None)


def _label(func) -> str:
    file, _, name = func
    return name if file == '~' else f'{os.path.basename(file)}:{name}'


def _charge(stats: pstats.Stats, func, seconds: float, out: dict, depth: int = 0) -> None:
    """Add `seconds` of `func` to its category; a built-in, a numpy helper or a comprehension no pattern names
    passes them up to its callers (split by the cumulative time under each), our own unnamed code is
    'python (other)'."""
    cat = _category(_label(func))
    callers = stats.stats[func][4]
    helper = func[0] == '~' or f'{os.sep}numpy{os.sep}' in func[0] or func[2].startswith('<')   # <listcomp> ...
    if cat is None and helper and callers and depth < 8:
        known = {c: v[3] for c, v in callers.items() if c in stats.stats}      # time under each caller
        total = sum(known.values())
        for caller, cum in known.items():
            _charge(stats, caller, seconds * (cum / total if total else 1 / len(known)), out, depth + 1)
        if known:
            return
    key = cat or 'python (other)'
    out[key] = out.get(key, 0.0) + seconds


def breakdown(stats: pstats.Stats) -> dict:
    """Seconds and share per category (see CATEGORIES) of a profile."""
    out: dict[str, float] = {}
    for func, (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        _charge(stats, func, tottime, out)
    total = sum(out.values()) or 1.0
    return {k: {'seconds': round(v, 3), 'share': round(v / total, 3)}
            for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def profile(sources: list[Path], scratch: Path) -> dict:
    """cProfile of one ingest (inline: one worker) and one extraction (its writers run inline) in this process."""
    import importlib
    from embeddenator import fs
    extract_module = importlib.import_module('embeddenator.fs.extract')      # fs.extract is the function
    prof = cProfile.Profile()
    prof.enable()
    fs.ingest_to(sources, scratch / 'profile.engram', workers=1)
    prof.disable()
    ingest = breakdown(pstats.Stats(prof))
    prof = cProfile.Profile()
    with mock.patch.object(extract_module, 'ThreadPoolExecutor', _Inline):
        prof.enable()
        fs.extract(fs.load(scratch / 'profile.engram'), scratch / 'profile-out')
        prof.disable()
    return {'ingest': ingest, 'extract': breakdown(pstats.Stats(prof))}


def bound(part: dict) -> str:
    """The largest category of one profile, named with its share."""
    name, top = next(iter(part.items()))
    return f"{name} {100 * top['share']:.0f}%"


def measure(scratch: Path, sources: list[Path] | None = None, workers: int = 2, with_profile: bool = True,
            repeat: int = REPEAT) -> dict:
    """The archive comparison (see the module docstring): figures, goals, verdict, profile. The reference and
    embeddenator run in turn `repeat` times; each figure is the best of its runs (every time is kept)."""
    from embeddenator import fs
    sources = sources or system_tree()
    scratch.mkdir(parents=True, exist_ok=True)
    files, size = warm(sources)
    mb = size / 1e6
    runs = {'tar_create': [], 'tar_extract': [], 'ingest': [], 'extract': []}
    for k in range(max(1, repeat)):
        create_s, untar_s, tar_zst_bytes = run_tar(sources, scratch)
        ingest_s, extract_s = run_embeddenator(sources, scratch, workers, keep=k == max(1, repeat) - 1)
        for key, value in zip(runs, (create_s, untar_s, ingest_s, extract_s)):
            runs[key].append(round(value, 3))
    tar = {'create_seconds': min(runs['tar_create']), 'extract_seconds': min(runs['tar_extract']),
           'tar_zst_bytes': tar_zst_bytes}
    ingest_s, extract_s = min(runs['ingest']), min(runs['extract'])
    engram_path = scratch / 'tree.engram'
    result = {
        'sources': [str(s) for s in sources], 'files': files, 'bytes': size, 'workers': workers,
        'runs': runs, 'repeat': max(1, repeat),
        'reference': {**tar, 'command': 'tar -c | zstd -1 -T0; zstd -d | tar -x',
                      'create_mb_s': round(mb / tar['create_seconds'], 1),
                      'extract_mb_s': round(mb / tar['extract_seconds'], 1)},
        'ingest_seconds': round(ingest_s, 3), 'extract_seconds': round(extract_s, 3),
        'ingest_mb_s': round(mb / ingest_s, 1), 'extract_mb_s': round(mb / extract_s, 1),
        'ingest_vs_tar_zst': round(tar['create_seconds'] / ingest_s, 3),
        'extract_vs_tar_zst': round(tar['extract_seconds'] / extract_s, 3),
        'engram_bytes': engram_path.stat().st_size,
        'size_vs_tar_zst': round(engram_path.stat().st_size / tar['tar_zst_bytes'], 2),
        'bit_perfect': same_tree(sources, scratch / 'out'),
        'query': query_quality(fs.load(engram_path)),
        'goals': GOALS,
    }
    result['met'] = {'ingest_mb_s': result['ingest_mb_s'] >= GOALS['ingest_mb_s'],
                     'extract_mb_s': result['extract_mb_s'] >= GOALS['extract_mb_s'],
                     'size_vs_tar_zst': result['size_vs_tar_zst'] <= GOALS['size_vs_tar_zst']}
    if with_profile:
        result['profile'] = profile(sources, scratch)
        result['bounds'] = {'ingest_mb_s': bound(result['profile']['ingest']) + ' of the profile',
                            'extract_mb_s': bound(result['profile']['extract']) + ' of the profile'}
    quality = result['query']['found_first'] == result['query']['queried']
    result['verdict'] = 'pass' if all(result['met'].values()) and result['bit_perfect'] and quality else 'fail'
    if disk_bound(result):
        result.setdefault('bounds', {})['extract_mb_s'] = (
            f"the disk: tar+zstd extracts at {result['reference']['extract_mb_s']} MB/s in the same run")
    return result


def disk_bound(r: dict) -> bool:
    """Whether an extraction that missed its goal was held by the disk: it reached at least DISK_BOUND of the
    speed of the reference, which wrote the same files in the same run."""
    return not r['met']['extract_mb_s'] and r['extract_vs_tar_zst'] >= DISK_BOUND


def summary(r: dict) -> list[str]:
    """Readable lines: each figure against its goal and the reference, and what bounds a goal not reached."""
    ref = r['reference']
    lines = [f"archive: {r['files']} files, {r['bytes'] / 1e6:.1f} MB ({', '.join(r['sources'])}), "
             f"{'bit-perfect' if r['bit_perfect'] else 'NOT bit-perfect'}, query {r['query']['found_first']}/"
             f"{r['query']['queried']} first: {r['verdict']}"]
    for key, what, mine, theirs, ratio in (
            ('ingest_mb_s', 'ingest', r['ingest_mb_s'], ref['create_mb_s'], r['ingest_vs_tar_zst']),
            ('extract_mb_s', 'extract', r['extract_mb_s'], ref['extract_mb_s'], r['extract_vs_tar_zst'])):
        bounds = r.get('bounds', {})
        why = '' if r['met'][key] or key not in bounds else f"; bound by {bounds[key]}"
        lines.append(f"archive: {what} {mine} MB/s (goal >= {GOALS[key]:.0f}): {'met' if r['met'][key] else 'NOT met'}"
                     f"; tar+zstd {theirs} MB/s, ratio {ratio}{why}")
    lines.append(f"archive: engram {r['engram_bytes'] / 1e6:.1f} MB, tar.zst {ref['tar_zst_bytes'] / 1e6:.1f} MB, "
                 f"{r['size_vs_tar_zst']}x (goal <= {GOALS['size_vs_tar_zst']}x): "
                 f"{'met' if r['met']['size_vs_tar_zst'] else 'NOT met'}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tree', type=Path, action='append', help='a folder to archive (repeatable; default: '
                        'the system tree)')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--no-profile', action='store_true', help='skip the profile runs')
    parser.add_argument('--repeat', type=int, default=REPEAT, help=f'runs of each side, best counts ({REPEAT})')
    parser.add_argument('--scratch', type=Path, help='where archives and extractions are written (default: the '
                        'temporary folder; a RAM disk such as /dev/shm leaves the disk out)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='fs-archive-', dir=args.scratch) as scratch:
        result = measure(Path(scratch), args.tree, args.workers, not args.no_profile, args.repeat)
    print(json.dumps(result, indent=2, sort_keys=True))
    print('\n'.join(summary(result)), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
