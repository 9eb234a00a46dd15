"""Update in place: bring an engram to a source tree's state, re-encoding only new and changed files.

A file whose path, size, mtime (ns) and data extents match the old engram's entry keeps its stored chunk rows,
SHA-256 and file vector, unless it is in doubt: its mtime is within a second of the engram's last write (git's
racy-clean rule: it may have changed again in the same clock tick), or `checksum=True` (rsync -c); then its
content is hashed and compared with the stored SHA-256. Everything else is encoded as ingest does.

The result is one segment appended to the engram's journal (see `journal`): the new rows only, and the new
manifest, chunk table and vectors; fsync'd, and counted only once all of it is on disk, so a crash at any point
leaves the old state or the new one. Removed entries are recorded as deleted; rows no live file uses any more are
dead bytes until `compact` rewrites the engram from its live content. A v1, v2 or v3 engram is rewritten whole as
v4 on its first update. One writer at a time: updates take an exclusive lock on the engram file.
"""
from __future__ import annotations

import os

import numpy as np

from embeddenator.fs import journal
from embeddenator.fs.engram import SCHEMA, Engram, load, save, state_arrays
from embeddenator.fs.errors import FsError, cannot_write
from embeddenator.fs.generation import next_generation
from embeddenator.fs.ingest import _run, assemble, open_frames, plan
from embeddenator.fs.manifest import Entry
from embeddenator.fs.stale import clear_partials
from embeddenator.fs.walk import scan
from embeddenator.fs.store import Packer, chunk_lengths, row_arrays
from embeddenator.fs.worker import PieceResult, file_sha256

RACY_NS = 1_000_000_000         # an mtime this close to the engram's last write does not prove the content


def unchanged(old: Entry | None, new: Entry) -> bool:
    """Whether `new` (just scanned) looks like `old`'s stored content: same kind, size, mtime and extents."""
    return (old is not None and old.kind == new.kind == 'file' and old.size == new.size
            and old.mtime_ns == new.mtime_ns and old.extents == new.extents)


def in_doubt(old: Entry, written_ns: int) -> bool:
    """Racily clean (git's rule): the stored mtime is within RACY_NS of the engram's last write, so the file may
    have been rewritten in the same clock tick after it was read, with the same size and mtime."""
    return old.mtime_ns >= written_ns - RACY_NS


def same_content(old: Entry, new: Entry) -> bool:
    """Whether the file on disk hashes to the stored SHA-256."""
    try:
        return file_sha256(new.source, new.size, new.extents) == old.sha256
    except (OSError, FsError):
        return False


def _reused(engram: Engram, index: int, old: Entry, vector, packer: Packer) -> PieceResult:
    """A stored file kept as it is, its bytes read back and packed into a frame again (a rewrite, compact)."""
    ids = np.asarray(engram.chunk_ids[old.first: old.first + old.count])
    lengths = chunk_lengths(old, engram.codec.chunk_size)
    if engram.store is not None:
        data = engram.store.read(ids)
    else:
        rows = engram.chunk_rows(ids)
        data = b''.join(rows[i, :n].tobytes() for i, n in enumerate(lengths.tolist()))
    frame, at = packer.add(data)
    return PieceResult(index, 0, lengths, at + np.cumsum(lengths) - lengths, np.asarray(engram.digests[ids]),
                       old.size, old.sha256, vector, frame)


def _rewrite(target, old: Engram, entries: list[Entry], reuse: dict, workers: int | None,
             deleted: list | None = None) -> tuple[Engram, int]:
    """Write `entries` as the new generation at `target`: files in `reuse` (index -> (old entry, vector)) from the
    old engram, the others encoded now; returns the engram and the number of files encoded."""
    codec = old.codec
    units = [[p for p in unit if p.entry not in reuse] for unit in plan(entries, codec)]
    units = [u for u in units if u]
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    max_nnz = int(old.stats.get('max_nnz', 200))
    clear_partials(target)
    with open_frames(target) as frames:
        results = _run(units, codec, max_nnz, workers, None, frames)
        with Packer(frames, len(units)) as packer:
            results += [_reused(old, i, entry, vector, packer) for i, (entry, vector) in reuse.items()]
        engram = assemble(entries, results, codec, max_nnz, frames)
        engram.deleted = deleted or []
        save(engram, target)
    return load(target), len({p.entry for u in units for p in u})


def _deleted(old: Engram, entries: list[Entry]) -> list[dict]:
    """Old deleted records plus one for each old entry not in `entries`, marked with the new generation."""
    paths, generation = {e.path for e in entries}, old.journal.get('generation', 0) + 1
    return old.deleted + [{'path': e.path, 'kind': e.kind, 'generation': generation}
                          for e in old.entries if e.path not in paths]


def _same_state(old: Engram, new: Engram) -> bool:
    """Whether `new` stores exactly what `old` does (entries with their chunk ranges, root folder, deletions)."""
    def root(e):
        return e.to_json() if e is not None else None
    return ([e.to_json() for e in old.entries] == [e.to_json() for e in new.entries]
            and root(old.root_entry) == root(new.root_entry) and old.deleted == new.deleted
            and np.array_equal(np.asarray(old.chunk_ids), new.chunk_ids))


def _commit(target, old: Engram, entries: list[Entry], reuse: dict, workers: int | None) -> tuple[Engram, int]:
    """Append `entries` as the next generation (only the new rows written); a v1, v2 or v3 engram is rewritten as
    v4. Returns the engram as now on disk and the number of files encoded."""
    if old.journal.get('schema') != SCHEMA:
        deleted = _deleted(old, entries)
        engram, encoded = _rewrite(target, old, entries, reuse, workers, deleted)
        return engram, encoded
    codec, max_nnz = old.codec, int(old.stats.get('max_nnz', 200))
    units = [u for u in ([p for p in unit if p.entry not in reuse] for unit in plan(entries, codec)) if u]
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    with open_frames(target) as frames:
        results = _run(units, codec, max_nnz, workers, None, frames)
        state, digests, (where, starts, lengths) = next_generation(old, entries, reuse, results, max_nnz)
        state.deleted = _deleted(old, entries)
        if not units and _same_state(old, state):
            return old, 0                               # nothing changed: nothing appended
        arrays = {**state_arrays(state), 'digests': digests, **row_arrays(frames, where, starts, lengths)}
        meta = {'codec': codec.describe(), 'stats': state.stats, 'segment': old.journal['generation'] + 1,
                'base_rows': int(old.codebook.shape[0]), 'checks': journal.checks(arrays)}
        try:
            journal.append(target, old.journal['end'], arrays, meta, SCHEMA)
        except OSError as err:
            raise cannot_write(target, err) from None
    return load(target), len({p.entry for u in units for p in u})


def add_paths(target, paths, workers: int | None = None, skip_special: bool = False) -> tuple[Engram, dict]:
    """Add files and folders from disk to the engram at `target`, each under its own name at the top (as ingest
    stores several sources); FsError, nothing changed, for a missing path or a name the engram already holds."""
    import dataclasses
    from embeddenator.fs.walk import _add, link_duplicates
    with journal.locked(target):
        old = load(target)
        held = {e.path for e in old.entries}
        added: list[Entry] = []
        skip = frozenset({(os.stat(target).st_dev, os.stat(target).st_ino)})
        for path in paths:
            try:
                st = os.lstat(path)
            except OSError as err:
                raise FsError(f'{os.fspath(path)}: cannot read ({err.strerror}); nothing was changed') from None
            name = os.fsencode(os.path.basename(os.path.abspath(path)))
            if name in held or any(e.path == name for e in added):
                raise FsError(f'{os.fsdecode(name)} is already in the engram; use update (or rm first); nothing was '
                              'changed')
            _add(os.fsencode(os.path.abspath(path)), name, st, added, skip, skip_special)
        kept = [dataclasses.replace(e) for e in old.entries]
        entries = ([old.root_entry] if old.root_entry is not None else []) + \
            link_duplicates(sorted(kept + added, key=lambda e: e.path.split(b'/')))
        vectors = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
        reuse = {i: vectors[e.path] for i, e in enumerate(entries) if e.kind == 'file' and e.path in held}
        engram, encoded = _commit(target, old, entries, reuse, workers)
    return engram, {'added_entries': len(added), 'encoded_files': encoded}


def update_to(target, sources, workers: int | None = None, skip_special: bool = False,
              checksum: bool = False) -> tuple[Engram, dict]:
    """Bring the engram at `target` to the state of `sources`; returns the new engram and counts (reused,
    encoded, removed files, and files hashed because their size and mtime alone could not be trusted).
    `checksum` hashes every file whose size and mtime match (rsync -c), not only the racily clean ones."""
    with journal.locked(target):
        old = load(target)
        entries = scan(sources, exclude=[target], skip_special=skip_special)
        before = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
        written = old.journal.get('mtime_ns', 0)
        reuse, hashed = {}, 0
        for i, e in enumerate(entries):
            prev = before.get(e.path, (None,))[0]
            if not unchanged(prev, e):
                continue
            if checksum or in_doubt(prev, written):
                hashed += 1
                if not same_content(prev, e):
                    continue
            reuse[i] = before[e.path]
        engram, encoded = _commit(target, old, entries, reuse, workers)
    paths = {e.path for e in entries}
    counts = {'reused_files': len(reuse), 'encoded_files': encoded,
              'removed_files': sum(p not in paths for p in before), 'hashed_files': hashed}
    return engram, counts


def remove_paths(target, paths) -> tuple[Engram, dict]:
    """Mark `paths` (stored paths; a folder takes everything under it) deleted in the engram at `target`, as a
    new generation. FsError, with nothing changed, for a path the engram does not hold or a hard link left
    pointing at a removed file."""
    import dataclasses
    with journal.locked(target):
        old = load(target)
        gone = [os.fsencode(p).rstrip(b'/') for p in paths]
        held = {e.path for e in old.entries}
        for given, path in zip(paths, gone):
            if not path:
                raise FsError(f'{os.fsdecode(given)!r}: not a stored path (the whole tree); give paths as stored, '
                              'relative to its top; nothing was changed')
            if path.startswith(b'/') or b'..' in path.split(b'/'):
                raise FsError(f'{os.fsdecode(path)}: outside the stored tree; give a path as stored (relative, no '
                              '..); nothing was changed')
            if path not in held:
                raise FsError(f'{os.fsdecode(path)}: not in the engram {os.fspath(target)}; nothing was changed')

        def removed(path: bytes) -> bool:
            return any(path == g or path.startswith(g + b'/') for g in gone)
        kept = [dataclasses.replace(e) for e in old.entries if not removed(e.path)]
        for e in kept:
            if e.kind == 'hardlink' and removed(e.target):
                raise FsError(f'{os.fsdecode(e.path)} is a hard link to {os.fsdecode(e.target)}, which would be '
                              'removed; remove both; nothing was changed')
        vectors = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
        entries = ([old.root_entry] if old.root_entry is not None else []) + kept
        reuse = {i: vectors[e.path] for i, e in enumerate(entries) if e.kind == 'file' and e.path}
        engram, _ = _commit(target, old, entries, reuse, 1)
    return engram, {'removed_entries': len(old.entries) - len(kept)}


def compact(target) -> tuple[Engram, dict]:
    """Rewrite the engram at `target` from its live content as one segment (atomically): dead rows, superseded
    generations and deleted records dropped, codebook rows in first-use order, the hierarchy rebuilt."""
    import dataclasses
    with journal.locked(target):
        old = load(target)
        before = {'file_bytes_before': os.path.getsize(target), 'rows_before': int(old.codebook.shape[0]),
                  'dead_bytes_before': old.storage()['dead_bytes']}
        entries = ([old.root_entry] if old.root_entry is not None else []) + \
            [dataclasses.replace(e) for e in old.entries]
        vectors = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
        reuse = {i: vectors[e.path] for i, e in enumerate(entries) if e.kind == 'file' and e.path}
        engram, _ = _rewrite(target, old, entries, reuse, 1)
    return engram, {**before, 'rows_after': int(engram.codebook.shape[0]), 'file_bytes_after': os.path.getsize(target)}
