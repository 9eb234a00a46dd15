"""Fuzz every reader with mutated and random files: the only acceptable failure is `FormatError`.

    python -m embeddenator.io.fuzz --seconds 30 [--seed N]

Mutations are applied to valid files of every kind and codec; half of them are re-signed (checksum recomputed)
so the structural checks behind the checksum are exercised too. A mutated file that was not re-signed must be
rejected: accepting it would mean returning wrong data silently. Exit status 1 and a saved reproducer on any
other outcome.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embeddenator.io.arrays import read_arrays, write_arrays
from embeddenator.io.codecs import available_codecs
from embeddenator.io.envelope import read_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import HEADER_SIZE, SIGNED
from embeddenator.io.manifest import read_json, write_json
from embeddenator.io.packed import read_packed, write_packed
from embeddenator.io.sparse import SparseBatch, read_sparse, write_sparse

READERS = {
    'envelope': read_envelope,
    'packed': read_packed,
    'packed-copy': functools.partial(read_packed, use_mmap=False),
    'sparse': read_sparse,
    'json': read_json,
    'arrays': read_arrays,
    'arrays-copy': functools.partial(read_arrays, use_mmap=False),
}
_INTERESTING = (0, 1, 63, 64, 65, 255, 1 << 16, 1 << 31, (1 << 32) - 1, 1 << 40, (1 << 63) - 1, (1 << 64) - 1)


def seed_files(folder: Path) -> list[bytes]:
    """Valid files of every kind and codec, as bytes."""
    rng = np.random.default_rng(7)
    rows = [(np.sort(rng.choice(50, 3, replace=False)[:2]), np.sort(rng.choice(np.arange(50, 90), 2, False)))
            for _ in range(4)]
    makers = [
        lambda p, c: write_packed(p, 130, np.arange(12, dtype='<u8'), n=2, row_words=6, codec=c),
        lambda p, c: write_sparse(p, SparseBatch.from_rows(90, rows), codec=c),
        lambda p, c: write_json(p, {'files': ['a', 'b'], 'n': 2}, codec=c, schema='fuzz/1'),
        lambda p, c: write_arrays(p, {'ids': np.arange(5), 'x': np.ones((2, 3), '<f4')}, codec=c),
    ]
    out = []
    for i, make in enumerate(makers):
        for codec in available_codecs():
            path = folder / f'seed{i}.{codec}'
            make(path, codec)
            out.append(path.read_bytes())
    return out


def resign(data: bytes) -> bytes:
    """`data` with a correct checksum for whatever its header and body now say."""
    if len(data) < HEADER_SIZE:
        return data
    digest = hashlib.sha256(data[:SIGNED] + data[HEADER_SIZE:]).digest()
    return data[:SIGNED] + digest + data[HEADER_SIZE:]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """`data` with one to four random edits: bit flips, byte overwrites, truncation, insertion, edge-value
    header integers, or scrambled metadata/payload bytes."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4))):
        op = rng.randrange(6)
        if op == 0 and buf:                                     # flip one bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:                                   # overwrite a byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:                                           # truncate
            del buf[rng.randrange(len(buf) + 1):]
        elif op == 3:                                           # insert or append random bytes
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.randrange(1, 80))
        elif op == 4 and len(buf) >= 40:                        # a header integer set to an edge value
            field, fmt = rng.choice(((4, '<H'), (6, '<H'), (8, '<B'), (12, '<I'), (16, '<Q'), (24, '<Q')))
            value = rng.choice(_INTERESTING) & ((1 << (8 * struct.calcsize(fmt))) - 1)
            struct.pack_into(fmt, buf, field, value)
        elif op == 5 and len(buf) > HEADER_SIZE:                # rewrite part of the metadata / payload
            i = rng.randrange(HEADER_SIZE, len(buf))
            buf[i:i + 8] = rng.randbytes(8)
    return bytes(buf)


def random_file(rng: random.Random) -> bytes:
    """Random bytes, half the time behind the magic so the header checks past it are reached."""
    body = rng.randbytes(rng.randrange(0, 300))
    return (b'EDN1' + body) if rng.random() < 0.5 else body


def check(reader, path: Path, must_reject: bool) -> str:
    """'ok' or 'rejected'; raises AssertionError when a corrupt file is accepted, and lets crashes through."""
    try:
        reader(path)
    except FormatError:
        return 'rejected'
    if must_reject:
        raise AssertionError(f'{path}: a corrupted file without a valid checksum was accepted')
    return 'ok'


def fuzz_one(data: bytes, original: bytes | None, sign: bool, folder: Path, counts: dict,
             keep: Path | None = None) -> None:
    """Write one case and run every reader on it; on failure save it as `keep/fuzz-crash-<reader>.edn`."""
    if sign:
        data = resign(data)
    path = folder / 'case.edn'
    path.write_bytes(data)
    must_reject = not sign and original is not None and data != original
    for name, reader in READERS.items():
        try:
            outcome = check(reader, path, must_reject)
        except Exception:
            saved = (keep or folder.parent) / f'fuzz-crash-{name}.edn'
            saved.write_bytes(data)
            print(f'reader {name} failed on {saved} (kept as a reproducer)', file=sys.stderr)
            raise
        counts[outcome] = counts.get(outcome, 0) + 1


def run(seconds: float, seed: int = 0, keep: Path | None = None) -> dict:
    """Fuzz for `seconds`; returns counts of cases and reader outcomes. Raises on the first failure."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seeds = seed_files(tmp)
        counts = {'cases': 0}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if rng.random() < 0.1:
                fuzz_one(random_file(rng), None, rng.random() < 0.5, tmp, counts, keep)
            else:
                original = rng.choice(seeds)
                fuzz_one(mutate(original, rng), original, rng.random() < 0.5, tmp, counts, keep)
            counts['cases'] += 1
    return counts


def main(argv=None) -> int:
    """Command line: fuzz for `--seconds`, print a one-line verdict; 0 on pass, 1 on a crash or accepted corruption."""
    parser = argparse.ArgumentParser(prog='python -m embeddenator.io.fuzz', description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=30.0, help='time budget (default 30)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--keep', type=Path, default=Path.cwd(), help='folder for a failing case (default: .)')
    args = parser.parse_args(argv)
    try:
        counts = run(args.seconds, args.seed, args.keep)
    except Exception as err:  # noqa: BLE001 - report any crash as the fuzz verdict
        print(f'fuzz: FAIL: {type(err).__name__}: {err}', file=sys.stderr)
        return 1
    print(f"fuzz: pass: {counts['cases']} files, {counts.get('rejected', 0)} rejections, "
          f"{counts.get('ok', 0)} accepted reads, 0 crashes in {args.seconds:g} s")
    return 0


if __name__ == '__main__':
    sys.exit(main())
