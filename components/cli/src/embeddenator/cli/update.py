"""`embeddenator update ENGRAM SOURCE`: bring an engram to SOURCE's state, re-encoding only what changed."""
from __future__ import annotations

import os
import time

from embeddenator.cli.output import megabytes


def add_parser(sub, common, bounded_workers) -> None:
    """Register `update` on the subcommand parsers `sub`."""
    p = sub.add_parser('update', parents=[common], help='bring an engram to the state of a source tree',
                       description='Re-encode only new and changed files of SOURCE (same size and mtime: reused; '
                                   'hashed first when the mtime is within a second of the last write), mark removed '
                                   'ones deleted, and append the change to ENGRAM (old or new state, never a mix).')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('sources', nargs='+', metavar='SOURCE', help='the tree (as given to ingest)')
    p.add_argument('--workers', type=bounded_workers, default=None, metavar='N', help='worker processes')
    p.add_argument('--checksum', action='store_true',
                   help='hash every file whose size and mtime match, and re-encode it if its content differs '
                        '(like rsync -c)')
    p.set_defaults(run=update)

    p = sub.add_parser('rm', parents=[common], help='remove stored paths from an engram',
                       description='Mark PATH (as stored; a folder takes everything under it) deleted in ENGRAM '
                                   '(its unshared chunks become dead bytes until compact). A path the engram does '
                                   'not hold is refused, with nothing changed.')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('paths', nargs='+', metavar='PATH')
    p.set_defaults(run=rm)

    p = sub.add_parser('add', parents=[common], help='add files and folders to an engram',
                       description='Add each PATH under its own name at the top of ENGRAM (encoding only it) and '
                                   'append the change to ENGRAM (old or new state, never a mix). A name the engram '
                                   'already holds is refused, with nothing changed (use update, or rm first).')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('paths', nargs='+', metavar='PATH')
    p.add_argument('--workers', type=bounded_workers, default=None, metavar='N', help='worker processes')
    p.set_defaults(run=add)

    p = sub.add_parser('compact', parents=[common], help='rewrite an engram without dead chunks',
                       description='Rewrite ENGRAM from its live content, atomically: dead chunks, earlier '
                                   'generations and deleted records dropped, hierarchy rebuilt.')
    p.add_argument('engram', metavar='ENGRAM')
    p.set_defaults(run=compact)


def _writable_engram(path: str) -> None:
    """FsError (exit 1) unless the engram may be replaced: checked before any work, so nothing changes."""
    from embeddenator import fs
    folder = os.path.dirname(os.path.abspath(path))
    # the mode bits, not os.access alone: root may write anything, but a 0444 engram says "leave me alone"
    if os.path.exists(path) and not (os.stat(path).st_mode & 0o222 and os.access(path, os.W_OK)
                                     and os.access(folder, os.W_OK)):
        raise fs.FsError(f'{path}: the engram or its folder is read-only; nothing was changed')


def rm(args, show: bool) -> tuple[dict, list[str]]:
    """Remove `args.paths` from `args.engram`."""
    from embeddenator.fs.update import remove_paths
    _writable_engram(args.engram)
    engram, counts = remove_paths(args.engram, args.paths)
    return {'engram': args.engram, **counts, 'files': len(engram.files)}, \
        [f'removed {counts["removed_entries"]} entries from {args.engram}; {len(engram.files)} files remain']


def add(args, show: bool) -> tuple[dict, list[str]]:
    """Add `args.paths` to `args.engram`."""
    from embeddenator.fs.update import add_paths
    _writable_engram(args.engram)
    engram, counts = add_paths(args.engram, args.paths, workers=args.workers)
    return {'engram': args.engram, **counts, 'files': len(engram.files)}, \
        [f'added {counts["added_entries"]} entries to {args.engram} ({counts["encoded_files"]} files encoded); '
         f'{len(engram.files)} files']


def compact(args, show: bool) -> tuple[dict, list[str]]:
    """Compact `args.engram`."""
    from embeddenator.fs.update import compact as run_compact
    _writable_engram(args.engram)
    engram, counts = run_compact(args.engram)
    return {'engram': args.engram, **counts}, \
        [f'compacted {args.engram}: {counts["rows_before"]} chunk rows before, {counts["rows_after"]} after; '
         f'{megabytes(counts["file_bytes_before"])} -> {megabytes(counts["file_bytes_after"])}']


def update(args, show: bool) -> tuple[dict, list[str]]:
    """Update `args.engram` from `args.sources`; FsError (exit 1) when the engram cannot be replaced."""
    from embeddenator.fs.update import update_to
    _writable_engram(args.engram)
    start = time.perf_counter()
    engram, counts = update_to(args.engram, args.sources if len(args.sources) > 1 else args.sources[0],
                               workers=args.workers, checksum=args.checksum)
    seconds = time.perf_counter() - start
    summary = engram.summary()
    result = {'engram': args.engram, **counts, 'files': summary['files'], 'bytes': summary['bytes'],
              'seconds': round(seconds, 3)}
    return result, [f'updated {args.engram}: {counts["encoded_files"]} files encoded, {counts["reused_files"]} '
                    f'unchanged ({counts["hashed_files"]} hashed), {counts["removed_files"]} removed; '
                    f'{summary["files"]} files '
                    f'({megabytes(summary["bytes"])}) in {seconds:.2f} s']
