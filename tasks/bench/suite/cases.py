"""The kernel microbenchmarks: one `Case` per (operation, representation) and per SIMD path.

A case is a call with its arguments prepared beforehand, so what is measured is the call alone. The same cases are
counted under callgrind (tasks.bench.suite.counted) and, for the AVX-512 path valgrind cannot run, timed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

SLOWDOWN_ENV = 'EMBEDDENATOR_BENCH_SLOWDOWN'
REPRESENTATIONS = ('sparse', 'packed', 'block')
CODEBOOK_ROWS = 1000


@dataclass(frozen=True)
class Case:
    id: str                  # "<group>/<name>/<variant>", the metric id
    label: str               # for people
    fn: Callable[[], object] = field(repr=False)
    calls: int = 200         # calls per measured region

    @property
    def group(self) -> str:
        return self.id.split('/', 1)[0]


def slowdowns(text: str | None = None) -> dict[str, float]:
    """Injected slowdowns, `id=fraction[,id=fraction]` (from EMBEDDENATOR_BENCH_SLOWDOWN): a test of the gate.

    The harness makes round(calls * fraction) extra calls of that case inside its measured region while still
    dividing by `calls`: the case then costs `fraction` more per call, whatever it measures (instructions or time).
    """
    text = os.environ.get(SLOWDOWN_ENV, '') if text is None else text
    out = {}
    for item in filter(None, (part.strip() for part in text.split(','))):
        key, sep, value = item.partition('=')
        try:
            out[key.strip()] = float(value) if sep else 0.0
        except ValueError:
            raise ValueError(f'{SLOWDOWN_ENV}: {item!r} is not "<metric id>=<fraction>", '
                             'e.g. vsa-ops/bind/packed=0.15') from None
    return out


def extra_calls(case: Case, injected: dict[str, float]) -> int:
    return round(case.calls * injected.get(case.id, 0.0))


def _convert(vsa, vec, rep: str):
    return {'sparse': vec, 'packed': vec.to_packed(), 'block': vec.to_block_sparse()}[rep]


def vsa_op_cases(vsa) -> list[Case]:
    """bundle, bind and permute on sparse, packed and block-sparse vectors of the default dimension and density."""
    a, b = vsa.random(seed=1), vsa.random(seed=2)
    out = []
    for rep in REPRESENTATIONS:
        x, y = _convert(vsa, a, rep), _convert(vsa, b, rep)
        out += [Case(f'vsa-ops/bundle/{rep}', f'bundle, {rep}', partial(vsa.bundle, x, y)),
                Case(f'vsa-ops/bind/{rep}', f'bind, {rep}', partial(vsa.bind, x, y)),
                Case(f'vsa-ops/permute/{rep}', f'permute, {rep}', partial(vsa.permute, x, 7))]
    return out


def simd_cases(vsa, path: str) -> list[Case]:
    """dot and cosine on packed vectors, and a top-k scan of a small codebook, on SIMD path `path`."""
    a, b = vsa.random(seed=1).to_packed(), vsa.random(seed=2).to_packed()
    book = vsa.PackedMatrix.from_vectors([vsa.random(seed=100 + i).to_packed() for i in range(CODEBOOK_ROWS)])
    return [Case(f'simd/dot/{path}', f'dot, packed, {path}', partial(vsa.dot, a, b)),
            Case(f'simd/cosine/{path}', f'cosine, packed, {path}', partial(vsa.cosine, a, b)),
            Case(f'simd/top_k-1k/{path}', f'top-10 of {CODEBOOK_ROWS} packed rows, {path}',
                 partial(book.top_k, a, 10), calls=20)]


def kernel_cases(vsa, groups: set[str]) -> list[Case]:
    """The cases of `groups` ('vsa-ops', 'simd') on the SIMD path currently selected."""
    out = vsa_op_cases(vsa) if 'vsa-ops' in groups else []
    if 'simd' in groups:
        out += simd_cases(vsa, vsa.simd_path())
    return out
