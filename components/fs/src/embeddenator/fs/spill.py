"""Codebook rows kept on disk while an engram is assembled, so ingest memory does not grow with the tree.

A packed chunk vector is about twice the size of its chunk (2 x 160 words for 1,250 bytes), so holding every row
until the engram is written costs twice the tree in memory. `RowSpill` writes rows to an unnamed temporary file
(`O_TMPFILE` where the OS has it: a killed ingest leaves nothing behind) as each piece of work comes back, and
gives the codebook back as an `embeddenator.io.Streamed` array read in blocks when the engram is written.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from embeddenator.io import Streamed

BLOCK_ROWS = 2048           # rows read per block when the codebook is written (5 MB at D = 10,000)


class RowSpill:
    """Rows of shape `row_shape` appended to a temporary file in `folder`; `streamed(order)` reads them back."""

    def __init__(self, folder, row_shape: tuple, dtype: str = '<u8'):
        self.file = tempfile.TemporaryFile(dir=folder)
        self.row_shape, self.dtype = tuple(row_shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(row_shape)) * self.dtype.itemsize
        self.count = 0

    def add(self, rows: np.ndarray) -> int:
        """Append rows; returns the index of the first."""
        start = self.count
        data = memoryview(np.ascontiguousarray(rows, dtype=self.dtype)).cast('B')
        while data:
            data = data[os.write(self.file.fileno(), data):]
        self.count += len(rows)
        return start

    def read(self, index: np.ndarray) -> np.ndarray:
        """The rows at `index` (any order), read run by run of consecutive rows."""
        out = np.empty((len(index), *self.row_shape), dtype=self.dtype)
        flat = out.reshape(len(index), -1).view(np.uint8)
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(index)]):
            size = (hi - lo) * self.row_bytes
            got = os.preadv(self.file.fileno(), [flat[lo:hi].reshape(-1)], int(index[lo]) * self.row_bytes)
            if got != size:
                raise OSError(f'the row spill file returned {got} of {size} bytes')
        return out

    def streamed(self, order: np.ndarray) -> Streamed:
        """The rows at `order`, as a lazily written array."""
        def blocks():
            for start in range(0, len(order), BLOCK_ROWS):
                yield self.read(order[start:start + BLOCK_ROWS])
        return Streamed(self.dtype.str, (len(order), *self.row_shape), blocks)

    def close(self) -> None:
        """Close (and so delete) the temporary file."""
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def mapped_array(path, name: str) -> np.ndarray:
    """A read-only memory map of the array `name` in an arrays envelope this process has just written (so the
    checksum is not read again): the header and the metadata give its place."""
    from embeddenator.io.header import HEADER_SIZE, parse_header
    with open(path, 'rb') as fh:
        header = parse_header(os.fspath(path), fh.read(HEADER_SIZE), os.fstat(fh.fileno()).st_size)
        meta = json.loads(fh.read(header.meta_len))
    entry = next(a for a in meta['arrays'] if a['name'] == name)
    shape = tuple(entry['shape'])
    if 0 in shape:
        return np.zeros(shape, dtype=entry['dtype'])
    return np.memmap(path, dtype=entry['dtype'], mode='r', offset=header.payload_offset + entry['offset'],
                     shape=shape)
