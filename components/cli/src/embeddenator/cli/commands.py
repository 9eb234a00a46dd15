"""The commands: each takes the parsed arguments and returns (result for --json, lines for people)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from embeddenator import fs
from embeddenator.cli.output import megabytes, table
from embeddenator.cli.progress import Progress


def _writable_target(path: str, what: str) -> None:
    """Fail before the work, not after it, when the output cannot be written."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise fs.FsError(f'{path}: the folder {folder} does not exist; create it or choose another {what}')
    if not os.access(folder, os.W_OK):
        raise fs.FsError(f'{path}: the folder {folder} is not writable; choose another {what}')


def _storage(engram: fs.Engram, size: int) -> dict:
    data = engram.summary()['bytes']
    return {'engram_bytes': size, 'overhead_percent': round(100 * (size - data) / data, 1) if data else None}


def ingest(args, show: bool) -> tuple[dict, list[str]]:
    """`ingest`: encode `args.sources` into the engram `args.output` (atomically), with speed and storage."""
    _writable_target(args.output, 'output file')
    bar = Progress('ingest', show)
    start = time.perf_counter()
    try:
        engram = fs.ingest_to(args.sources, args.output, workers=args.workers, progress=bar,
                              skip_special=args.skip_special)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    summary = engram.summary()
    result = {'engram': args.output, **summary, **_storage(engram, os.path.getsize(args.output)),
              'seconds': round(seconds, 3), 'mb_per_s': round(summary['bytes'] / 1e6 / seconds, 2)}
    lines = [f'ingested {summary["files"]} files, {summary["dirs"]} dirs, {summary["symlinks"]} symlinks '
             f'({megabytes(summary["bytes"])}) into {args.output} in {seconds:.2f} s '
             f'({result["mb_per_s"]} MB/s)',
             f'{summary["chunks"]} chunks, {summary["unique_chunks"]} unique, {summary["corrections"]} corrected; '
             f'engram {megabytes(result["engram_bytes"])}']
    return result, lines


def extract(args, show: bool) -> tuple[dict, list[str]]:
    """`extract`: recreate the tree of `args.engram` under `args.output`, every file verified."""
    engram = fs.load(args.engram)
    bar = Progress('extract', show)
    start = time.perf_counter()
    try:
        written = fs.extract(engram, args.output, force=args.force, progress=bar,
                             same_permissions=args.same_permissions, same_owner=args.same_owner)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    result = {'engram': args.engram, 'output': args.output, 'bytes': written, 'entries': len(engram.entries),
              'files': len(engram.files), 'verified': True, 'seconds': round(seconds, 3)}
    return result, [f'extracted {len(engram.entries)} entries ({megabytes(written)}) to {args.output}; '
                    f'every file matched its SHA-256 ({seconds:.2f} s)']


def query(args, show: bool) -> tuple[dict, list[str]]:
    """`query`: the `args.k` stored files and chunks most similar to the file `args.query`, as two tables (or, for
    a sharded index folder, the best rows for the vectors in a .npy file: cli/sharded.py)."""
    from embeddenator.cli import sharded
    if sharded.is_sharded(args.engram):
        return sharded.query(args)
    engram = fs.load(args.engram)
    hits = fs.query(engram, args.query, k=args.k)
    result = {'engram': args.engram, 'query': args.query, 'k': args.k,
              'files': [h.to_json() for h in hits['files']], 'chunks': [h.to_json() for h in hits['chunks']]}
    lines = ['files:', *table([[h.score, h.path] for h in hits['files']], ['score', 'path']), '', 'chunks:',
             *table([[h.score, h.chunk, h.offset, h.path] for h in hits['chunks']],
                    ['score', 'chunk', 'offset', 'path'])]
    return result, lines


def info(args, show: bool) -> tuple[dict, list[str]]:
    """`info`: the engram's codec, counts, sizes and storage overhead."""
    engram = fs.load(args.engram)
    summary = engram.summary()
    result = {'engram': args.engram, **summary, **_storage(engram, os.path.getsize(args.engram))}
    if getattr(args, 'verify', False):
        result['verified_segments'] = fs.verify(args.engram)       # FormatError (exit 2) on any damaged byte
    lines = info_lines(result)
    if 'verified_segments' in result:
        lines.append(f"verified: {result['verified_segments']} segments, every byte matches its checksum")
    return result, lines


def info_lines(r: dict) -> list[str]:
    """`info`'s facts as a short summary (sizes in MB; `--json` has every field, in bytes)."""
    mb = megabytes
    dead = r['dead_bytes'] > 0 or r['deleted_entries'] > 0
    size = r['overhead_percent']
    than = 'larger' if size is not None and size >= 0 else 'smaller'
    overhead = '' if size is None else f'; the file is {abs(size)}% {than} than the content'
    return [
        f"engram: {r['engram']} ({mb(r['engram_bytes'])}), generation {r['generation']}",
        'codec: version {version}, dim {dim}, chunk {chunk_size} bytes'.format(**r['codec']),
        f"tree: {r['files']} files ({mb(r['bytes'])}), {r['dirs']} folders, {r['symlinks']} symlinks, "
        f"{r['hardlinks']} hard links, {r['special']} special",
        f"chunks: {r['chunks']} ({r['live_rows']} unique, {mb(r['deduplicated_bytes'])} stored once each), "
        f"{r['corrections']} corrected",
        f"storage: live {mb(r['live_bytes'])} in {r['live_rows']} rows, dead {mb(r['dead_bytes'])} in "
        f"{r['dead_rows']} rows and {r['deleted_entries']} deleted entries"
        + (' (embeddenator compact drops them)' if dead else '') + overhead,
        f"vectors: {r['sub_engrams']} sub-engrams, root {r['root_nnz']} non-zeros, at most "
        f"{r.get('max_nnz', '?')} per file"]


def export(args, show: bool) -> tuple[dict, list[str]]:
    """`export`: write the engram's vectors to `args.output` (.npz, .json or .npy, by suffix)."""
    from embeddenator import interop
    _writable_target(args.output, 'output file')
    written = interop.export_engram(fs.load(args.engram), args.output)
    return written, [f'exported {written["files"]} file vectors, {written["sub_engrams"]} sub-engrams'
                     + (f', {written["chunks"]} chunk vectors' if written['chunks'] else '')
                     + f' to {args.output} ({written["format"]})']


def bench(args, show: bool) -> tuple[dict, list[str]]:
    """Ingest SRC into a temporary engram and extract it again: speed, storage overhead, bit-perfection."""
    with tempfile.TemporaryDirectory(prefix='embeddenator-bench-') as scratch:
        target = Path(scratch) / 'bench.engram'
        start = time.perf_counter()
        engram = fs.ingest_to(args.sources, target, workers=args.workers)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        fs.extract(fs.load(target), Path(scratch) / 'out')
        extract_s = time.perf_counter() - start
        storage = _storage(engram, target.stat().st_size)
    summary = engram.summary()
    mb = summary['bytes'] / 1e6
    result = {'files': summary['files'], 'bytes': summary['bytes'], 'verified': True, **storage,
              'ingest_mb_s': round(mb / ingest_s, 2), 'extract_mb_s': round(mb / extract_s, 2),
              'recovered_fraction': summary['recovered_bytes'] / summary['bytes'] if summary['bytes'] else 1.0}
    return result, [f'{summary["files"]} files, {megabytes(summary["bytes"])}: ingest {result["ingest_mb_s"]} MB/s, '
                    f'extract {result["extract_mb_s"]} MB/s (every file verified), storage overhead '
                    f'{storage["overhead_percent"]}%, {100 * result["recovered_fraction"]:.2f}% of bytes right '
                    'before corrections']
