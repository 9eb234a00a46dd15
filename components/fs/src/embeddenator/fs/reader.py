"""Random access into a stored file: the bytes at any offset, decoding only the chunks that hold them.

Extraction streams whole files; a mount answers `read(offset, size)` calls in any order. `ChunkReader.read`
finds the chunks that overlap the range (a run of data of a sparse file starts a new chunk; holes between runs
read as zeros and decode nothing), decodes only those not already in a small LRU cache of decoded chunks (keyed
by codebook row, so a chunk two files share is decoded once), applies its correction and checks it against its
BLAKE2b digest. A whole-file SHA-256 cannot be checked on a partial read; the per-chunk digest is what makes a
damaged engram read as an error rather than as wrong bytes.
"""
from __future__ import annotations

import bisect
import os
import threading
from collections import OrderedDict

import numpy as np

from embeddenator import obs
from embeddenator.fs.corrections import apply_correction, digest
from embeddenator.fs.engram import Engram
from embeddenator.fs.errors import IntegrityError
from embeddenator.fs.manifest import Entry

CACHE_CHUNKS = 512          # decoded chunks kept: 640 KB at the default 1250-byte chunk


class ChunkReader:
    """Reads byte ranges of an engram's files, chunk by chunk, with an LRU cache of decoded chunks."""

    def __init__(self, engram: Engram, cache_chunks: int = CACHE_CHUNKS):
        self.engram = engram
        self.cache_chunks = max(1, cache_chunks)
        self.cache: OrderedDict[int, bytes] = OrderedDict()
        self.decoded = 0                            # chunks decoded so far (cache misses)
        self.lock = threading.Lock()
        self._runs: dict[bytes, tuple[list[int], list[tuple[int, int, int]]]] = {}
        self._counter = obs.counter('fs_chunks_decoded_total', 'chunks decoded for random-access reads')

    def runs(self, entry: Entry) -> tuple[list[int], list[tuple[int, int, int]]]:
        """(run offsets, [(offset, length, index of the run's first chunk in the file)]), cached per path;
        IntegrityError when the stored chunk count does not match the data runs."""
        found = self._runs.get(entry.path)
        if found is None:
            size, chunk, runs = self.engram.codec.chunk_size, 0, []
            for offset, length in entry.data_extents():
                runs.append((offset, length, chunk))
                chunk += -(-length // size)
            if chunk != entry.count:
                raise IntegrityError(f'{os.fsdecode(entry.path)}: {entry.count} chunks stored for {entry.size} '
                                     'bytes of data; the engram is damaged')
            found = self._runs[entry.path] = ([r[0] for r in runs], runs)
        return found

    def read(self, entry: Entry, offset: int, size: int) -> bytes:
        """Up to `size` bytes of `entry` from `offset` (fewer at the end of the file; holes are zeros)."""
        end = min(entry.size, offset + size)
        if offset < 0 or offset >= end:
            return b''
        out = bytearray(end - offset)
        starts, runs = self.runs(entry)
        chunk_size = self.engram.codec.chunk_size
        for run_off, run_len, first in runs[max(0, bisect.bisect_right(starts, offset) - 1):]:
            if run_off >= end:
                break
            lo, hi = max(offset, run_off), min(end, run_off + run_len)
            if lo >= hi:
                continue
            k0, k1 = (lo - run_off) // chunk_size, (hi - run_off - 1) // chunk_size + 1
            lengths = [min(chunk_size, run_len - k * chunk_size) for k in range(k0, k1)]
            data = b''.join(self.chunks(entry, first + k0, lengths))
            base = run_off + k0 * chunk_size
            out[lo - offset: hi - offset] = data[lo - base: hi - base]
        return bytes(out)

    def chunks(self, entry: Entry, index: int, lengths: list[int]) -> list[bytes]:
        """The bytes of `len(lengths)` consecutive chunks of `entry` from chunk `index`, decoding the missing."""
        engram = self.engram
        rows = [int(r) for r in engram.chunk_ids[entry.first + index: entry.first + index + len(lengths)]]
        with self.lock:
            found = {row: self.cache[row] for row in rows if row in self.cache}
            for row in found:
                self.cache.move_to_end(row)
        missing = sorted({row for row in rows if row not in found})
        if missing:
            length_of = dict(zip(rows, lengths))
            try:
                decoded = engram.chunk_rows(missing) if engram.store is not None else \
                    engram.codec.decode(np.asarray(engram.codebook[missing]))
            except IntegrityError as err:                   # a damaged frame: say whose read it was
                raise IntegrityError(f'{os.fsdecode(entry.path)}: {err}') from None
            engram.note_read(len(missing) * 16 * engram.codec.half)
            for row, raw in zip(missing, decoded):
                found[row] = self._checked(entry, row, raw[:length_of[row]])
            self._counter.inc(len(missing))
            with self.lock:
                self.decoded += len(missing)
                for row in missing:
                    self.cache[row] = found[row]
                while len(self.cache) > self.cache_chunks:
                    self.cache.popitem(last=False)
        return [found[row] for row in rows]

    def _checked(self, entry: Entry, row: int, raw: np.ndarray) -> bytes:
        """One decoded chunk with its correction applied, checked against its digest (IntegrityError if not)."""
        fix = self.engram.corrections.get(row)
        data = (apply_correction(raw, fix) if fix is not None else raw).tobytes()
        if digest(data) != bytes(self.engram.digests[row]):
            raise IntegrityError(f'{os.fsdecode(entry.path)}: chunk row {row} does not match its digest after '
                                 'decoding; the engram is damaged')
        return data
