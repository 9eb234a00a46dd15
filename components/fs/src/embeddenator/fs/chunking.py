"""Where a run of file data is cut into chunks: fixed every L bytes, or at content-defined boundaries.

The engram deduplicates chunks by digest, so what dedup finds depends on where the cuts fall. Fixed cuts (what
ingest does today, `fixed_lengths`) move with every byte inserted or deleted: an insertion near the top of a file
changes every later chunk. Content-defined cuts (`ContentDefined`, FastCDC 2020 through the maintained `pyfastcdc`
library) are placed where a rolling Gear hash of the last bytes matches a mask, so they move with the content:
after an insertion the cuts fall back in step within a chunk or two and every later chunk keeps its digest.

Every chunk is at most `max_size` bytes, which must not exceed the codec's chunk size L (a chunk is one codec
row; a shorter one is padded by the codec, and its length must then be stored beside its row). The default
setting (min 512, avg 1024, max 1250, normalized chunking 2) is the one `benchmarks/fs_dedup.py` found to store
about 10% less than fixed cuts on a source tree and its edited version, with no more codebook rows.

Only the cut positions live here: pure functions of the bytes, with no engram format attached.
"""
from __future__ import annotations

from dataclasses import dataclass

from embeddenator.fs.codec import DEFAULT_CHUNK


def fixed_lengths(size: int, chunk: int = DEFAULT_CHUNK) -> list[int]:
    """Lengths of the chunks of a run of `size` bytes cut every `chunk` bytes (the last one may be shorter).

    >>> fixed_lengths(3000)
    [1250, 1250, 500]
    >>> fixed_lengths(0)
    []
    """
    return [min(chunk, size - at) for at in range(0, size, chunk)]


@dataclass(frozen=True)
class ContentDefined:
    """FastCDC 2020 cut points (pyfastcdc), every chunk between `min_size` and `max_size` bytes but the last.

    `seed` 0 is the paper's Gear table; the same setting gives the same cuts on every machine, so two ingests
    (or an ingest and an update) of the same bytes share their chunks.
    """
    min_size: int = 512
    avg_size: int = 1024
    max_size: int = DEFAULT_CHUNK
    normalized_chunking: int = 2
    seed: int = 0

    def __post_init__(self):
        self._chunker()                   # pyfastcdc's ValueError for sizes out of its ranges, at once

    def _chunker(self):
        try:
            import pyfastcdc
        except ImportError:
            raise ImportError('content-defined chunking needs pyfastcdc: pip install "embeddenator-fs[cdc]"') from None
        return pyfastcdc.FastCDC(self.avg_size, min_size=self.min_size, max_size=self.max_size,
                                 normalized_chunking=self.normalized_chunking, seed=self.seed)

    def lengths(self, data: bytes | bytearray | memoryview) -> list[int]:
        """Lengths of the chunks `data` is cut into; they add up to len(data)."""
        if not len(data):
            return []
        return [chunk.length for chunk in self._chunker().cut_buf(data)]

    def describe(self) -> dict:
        """The setting as it would be recorded beside the chunks it made."""
        return {'kind': 'fastcdc2020', 'min': self.min_size, 'avg': self.avg_size, 'max': self.max_size,
                'nc': self.normalized_chunking, 'seed': self.seed}


def split(data: bytes | bytearray | memoryview, lengths: list[int]) -> list[bytes]:
    """The chunks themselves; ValueError unless the lengths cover `data` exactly."""
    if sum(lengths) != len(data):
        raise ValueError(f'chunk lengths add up to {sum(lengths)}, not {len(data)} bytes')
    view, out, at = memoryview(data), [], 0
    for n in lengths:
        out.append(bytes(view[at:at + n]))
        at += n
    return out
