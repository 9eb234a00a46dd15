"""The correction store: what turns a decoded chunk back into the exact original bytes.

Each chunk whose decode differs from its bytes gets the smallest of three records, all checked on use against
the chunk's digest (BLAKE2b-128 of the original bytes):

- ``flips``: offsets (uint16, little-endian) and XOR masks, 3 bytes per wrong byte;
- ``block``: one contiguous span replaced, 4 bytes of header plus the span;
- ``verbatim``: the whole chunk.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

DIGEST_SIZE = 16
KINDS = ('flips', 'block', 'verbatim')


def digest(chunk: bytes | memoryview) -> bytes:
    """BLAKE2b-128 of a chunk's original bytes: what a corrected decode is checked against."""
    return hashlib.blake2b(chunk, digest_size=DIGEST_SIZE).digest()


@dataclass(frozen=True)
class Correction:
    kind: str            # one of KINDS
    payload: bytes

    def to_json(self) -> list:
        """`[kind, payload as hex]`."""
        return [self.kind, self.payload.hex()]

    @classmethod
    def from_json(cls, item) -> 'Correction':
        """Inverse of `to_json`; ValueError for an unknown kind."""
        kind, payload = item
        if kind not in KINDS:
            raise ValueError(f'unknown correction kind {kind!r}; expected one of {", ".join(KINDS)}')
        return cls(kind, bytes.fromhex(payload))


def make_correction(decoded: np.ndarray, original: np.ndarray) -> Correction | None:
    """The cheapest record turning `decoded` into `original` (equal-length uint8 arrays); None if equal."""
    wrong = np.flatnonzero(decoded != original)
    if wrong.size == 0:
        return None
    lo, hi = int(wrong[0]), int(wrong[-1]) + 1
    costs = {'flips': 3 * wrong.size, 'block': 4 + hi - lo, 'verbatim': original.size}
    kind = min(KINDS, key=costs.__getitem__)
    if kind == 'flips':
        masks = (decoded[wrong] ^ original[wrong]).astype(np.uint8)
        payload = wrong.astype('<u2').tobytes() + masks.tobytes()
    elif kind == 'block':
        payload = lo.to_bytes(2, 'little') + hi.to_bytes(2, 'little') + original[lo:hi].tobytes()
    else:
        payload = original.tobytes()
    return Correction(kind, payload)


def apply_correction(decoded: np.ndarray, fix: Correction | None) -> np.ndarray:
    """`decoded` with `fix` applied (a new array; `decoded` is left alone)."""
    out = np.array(decoded, dtype=np.uint8, copy=True)
    if fix is None:
        return out
    body = fix.payload
    if fix.kind == 'flips':
        count = len(body) // 3
        offsets = np.frombuffer(body, dtype='<u2', count=count)
        out[offsets] ^= np.frombuffer(body, dtype=np.uint8, offset=2 * count)
    elif fix.kind == 'block':
        lo, hi = int.from_bytes(body[:2], 'little'), int.from_bytes(body[2:4], 'little')
        out[lo:hi] = np.frombuffer(body, dtype=np.uint8, offset=4)
    else:
        out = np.frombuffer(body, dtype=np.uint8).copy()
    return out
