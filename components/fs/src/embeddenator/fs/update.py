"""Update in place: bring an engram to a source tree's state, re-encoding only new and changed files.

A file whose path, size, mtime (ns) and data extents match the old engram's entry is not read again: its chunk
rows, digests, corrections, SHA-256 and file vector are taken from the old engram. Everything else is encoded as
ingest does. The new generation is written beside the old one and renamed over it (io's atomic write), so a
crash at any point leaves either the old engram or the new one, whole; removed files simply are not in the new
generation.
"""
from __future__ import annotations

import os

import numpy as np

from embeddenator.fs.engram import Engram, load, save
from embeddenator.fs.errors import FsError
from embeddenator.fs.ingest import _run, assemble, open_spill, plan
from embeddenator.fs.manifest import Entry
from embeddenator.fs.spill import mapped_array
from embeddenator.fs.stale import clear_partials
from embeddenator.fs.walk import scan
from embeddenator.fs.worker import PieceResult


def unchanged(old: Entry | None, new: Entry) -> bool:
    """Whether `new` (just scanned) can reuse `old`'s stored content: same kind, size, mtime and extents."""
    return (old is not None and old.kind == new.kind == 'file' and old.size == new.size
            and old.mtime_ns == new.mtime_ns and old.extents == new.extents)


def _reused(engram: Engram, index: int, old: Entry, vector) -> PieceResult:
    ids = np.asarray(engram.chunk_ids[old.first: old.first + old.count])
    fixes = {k: engram.corrections[int(r)] for k, r in enumerate(ids) if int(r) in engram.corrections}
    return PieceResult(index, 0, np.asarray(engram.codebook[ids]), np.asarray(engram.digests[ids]), fixes,
                       old.size, old.sha256, vector)


def _rewrite(target, old: Engram, entries: list[Entry], reuse: dict, workers: int | None) -> tuple[Engram, int]:
    """Write `entries` as the new generation at `target`: files in `reuse` (index -> (old entry, vector)) from the
    old engram, the others encoded now; returns the engram and the number of files encoded."""
    codec = old.codec
    units = [[p for p in unit if p.entry not in reuse] for unit in plan(entries, codec)]
    units = [u for u in units if u]
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    max_nnz = int(old.stats.get('max_nnz', 200))
    clear_partials(target)
    with open_spill(target, codec) as spill:
        results = _run(units, codec, max_nnz, workers, None, spill)
        for i, (entry, vector) in reuse.items():
            r = _reused(old, i, entry, vector)
            r.spill_at = spill.add(r.rows)
            r.rows = np.empty((len(r.rows), 2, 0), '<u8')
            results.append(r)
        engram = assemble(entries, results, codec, max_nnz, spill)
        save(engram, target)
    engram.codebook = mapped_array(target, 'codebook')
    return engram, len({p.entry for u in units for p in u})


def add_paths(target, paths, workers: int | None = None, skip_special: bool = False) -> tuple[Engram, dict]:
    """Add files and folders from disk to the engram at `target`, each under its own name at the top (as ingest
    stores several sources); FsError, nothing changed, for a missing path or a name the engram already holds."""
    import dataclasses
    from embeddenator.fs.walk import _add, link_duplicates
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
    engram, encoded = _rewrite(target, old, entries, reuse, workers)
    return engram, {'added_entries': len(added), 'encoded_files': encoded}


def update_to(target, sources, workers: int | None = None, skip_special: bool = False) -> tuple[Engram, dict]:
    """Bring the engram at `target` to the state of `sources`; returns the new engram and counts
    (reused, encoded, removed files)."""
    old = load(target)
    entries = scan(sources, exclude=[target], skip_special=skip_special)
    before = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
    reuse = {i: before[e.path] for i, e in enumerate(entries) if unchanged(before.get(e.path, (None,))[0], e)}
    engram, encoded = _rewrite(target, old, entries, reuse, workers)
    paths = {e.path for e in entries}
    counts = {'reused_files': len(reuse), 'encoded_files': encoded,
              'removed_files': sum(p not in paths for p in before)}
    return engram, counts


def remove_paths(target, paths) -> tuple[Engram, dict]:
    """Remove `paths` (stored paths; a folder takes everything under it) from the engram at `target`, written as a
    new generation renamed over the old. FsError, with nothing changed, for a path the engram does not hold or a
    hard link left pointing at a removed file."""
    import dataclasses
    old = load(target)
    gone = [os.fsencode(p).rstrip(b'/') for p in paths]
    held = {e.path for e in old.entries}
    for path in gone:
        if path.startswith(b'/') or b'..' in path.split(b'/'):
            raise FsError(f'{os.fsdecode(path)}: outside the stored tree; give a path as stored (relative, no ..); '
                          'nothing was changed')
        if path not in held:
            raise FsError(f'{os.fsdecode(path)}: not in the engram {os.fspath(target)}; nothing was changed')

    def removed(path: bytes) -> bool:
        return any(path == g or path.startswith(g + b'/') for g in gone)
    kept = [dataclasses.replace(e) for e in old.entries if not removed(e.path)]
    for e in kept:
        if e.kind == 'hardlink' and removed(e.target):
            raise FsError(f'{os.fsdecode(e.path)} is a hard link to {os.fsdecode(e.target)}, which would be removed; '
                          'remove both; nothing was changed')
    vectors = {e.path: v for e, v in zip(old.files, old.file_vectors)}
    entries = ([old.root_entry] if old.root_entry is not None else []) + kept
    clear_partials(target)
    with open_spill(target, old.codec) as spill:
        results = []
        for i, e in enumerate(entries):
            if e.kind == 'file' and e.path:
                r = _reused(old, i, e, vectors[e.path])
                r.spill_at = spill.add(r.rows)
                r.rows = np.empty((len(r.rows), 2, 0), '<u8')
                results.append(r)
        engram = assemble(entries, results, old.codec, int(old.stats.get('max_nnz', 200)), spill)
        save(engram, target)
    engram.codebook = mapped_array(target, 'codebook')
    return engram, {'removed_entries': len(old.entries) - len(kept)}


def compact(target) -> tuple[Engram, dict]:
    """Rewrite the engram at `target` from its own content: codebook rows in first-use order, the hierarchy
    rebuilt. Updates here write whole generations, so no dead chunk is ever left behind; the counts say so."""
    import dataclasses
    old = load(target)
    entries = ([old.root_entry] if old.root_entry is not None else []) + [dataclasses.replace(e) for e in old.entries]
    vectors = {e.path: (e, v) for e, v in zip(old.files, old.file_vectors)}
    reuse = {i: vectors[e.path] for i, e in enumerate(entries) if e.kind == 'file' and e.path}
    rows_before = int(old.codebook.shape[0])
    engram, _ = _rewrite(target, old, entries, reuse, 1)
    return engram, {'rows_before': rows_before, 'rows_after': int(engram.codebook.shape[0])}
