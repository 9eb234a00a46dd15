"""The wall-clock groups as probes: hierarchical scale and query, retrieval, the codebook scan, the AVX-512 path.

A probe is one measurement: a subject (our code) and a same-process reference (the numpy equivalent of the same
work on the same data, the memory-bandwidth probe, or the AVX2 path), each a callable doing one round's work. The
probe worker (tasks.bench.suite.worker) builds them in one process per side of the A/B comparison (current tree,
reference release) and times them round by round on request; tasks.bench.suite.ab interleaves the two sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from tasks.bench.suite import numpy_ref
from tasks.bench.suite.cases import extra_calls, kernel_cases, simd_cases
from tasks.bench.suite.timing import repeat

FANOUT = 100           # children per node of the hierarchy
POOL = 10_000          # distinct random items; larger scales reuse them (bundling cost does not depend on which)
SCALES = {'10k': (10_000, 7), '100k': (100_000, 5), '1m': (1_000_000, 3)}   # items, rounds
QUERIES = 1_000
SCAN_ROWS = 20_000     # 2 x 157 words x 8 B x 20K rows = 50 MB: larger than the last-level cache
RETRIEVAL_ITEMS = 10_000
RETRIEVAL_QUERIES = 100
WALL_GROUPS = ('hier-scale', 'hier-query', 'retrieval', 'scan')


@dataclass(frozen=True)
class Probe:
    id: str                                   # "<group>/<name>/<variant>", the metric id
    label: str
    unit: str                                 # 'time ratio to numpy', 'time ratio to a read', ...
    subject: Callable[[], object] = field(repr=False)
    reference: Callable[[], object] = field(repr=False)
    rounds: int = 9
    work: tuple[str, float] = ('calls', 1.0)  # (what, how many per round): the report's rate, what per second
    detail: tuple = ()                        # (name, value) pairs the report shows beside the metric

    @property
    def group(self) -> str:
        return self.id.split('/', 1)[0]

    def spec(self) -> dict:
        return {'id': self.id, 'label': self.label, 'unit': self.unit, 'rounds': self.rounds, 'work': self.work,
                'detail': dict(self.detail)}


def _hier(vsa, items, keep):
    level = items
    while len(level) > 1:
        level = [vsa.thin(vsa.bundle_many(level[i:i + FANOUT]), keep, seed=i)
                 for i in range(0, len(level), FANOUT)]
    return level[0]


def _pool(vsa, n=POOL):
    vecs = [vsa.random(seed=i) for i in range(n)]
    return vecs, [(np.asarray(v.pos), np.asarray(v.neg)) for v in vecs]


def hier_scale(vsa, scales=SCALES) -> list[Probe]:
    """Bundle N items into one root, FANOUT at a time, thinning every node back to 4 x DEFAULT_NNZ."""
    vecs, arrays = _pool(vsa)
    keep, out = 4 * vsa.DEFAULT_NNZ, []
    for name, (n, rounds) in scales.items():
        items = [vecs[i % POOL] for i in range(n)]
        refs = [arrays[i % POOL] for i in range(n)]
        out.append(Probe(f'hier-scale/bundle/{name}', f'hierarchical bundle of {n:,} items', 'time ratio to numpy',
                         partial(_hier, vsa, items, keep),
                         partial(numpy_ref.hierarchy, refs, vsa.DEFAULT_DIM, FANOUT, keep), rounds, ('items', n)))
    return out


def _descend(top, children, queries):
    for q in queries:
        (node,), _ = top.top_k(q, 1)
        children[int(node)].top_k(q, 1)


def _np_descend(top, children, queries):
    for qp, qn in queries:
        node = numpy_ref.top_k(*top, qp, qn, 1)[0]
        numpy_ref.top_k(*children[int(node)], qp, qn, 1)


def hier_query(vsa) -> list[Probe]:
    """1K queries descending a two-level hierarchy of 10K items (100 nodes of 100 leaves): best node, best leaf."""
    vecs, _ = _pool(vsa)
    keep = 4 * vsa.DEFAULT_NNZ
    leaves = [[v.to_packed() for v in vecs[i:i + FANOUT]] for i in range(0, POOL, FANOUT)]
    nodes = [vsa.thin(vsa.bundle_many(vecs[i:i + FANOUT]), keep, seed=i).to_packed() for i in range(0, POOL, FANOUT)]
    queries = [vecs[(i * 7919) % POOL].to_packed() for i in range(QUERIES)]
    top, children = vsa.PackedMatrix.from_vectors(nodes), [vsa.PackedMatrix.from_vectors(c) for c in leaves]
    np_top, np_children = numpy_ref.planes(nodes), [numpy_ref.planes(c) for c in leaves]
    np_queries = [(q.pos_words, q.neg_words) for q in queries]
    return [Probe('hier-query/descend/1k', f'{QUERIES:,} queries, 2 levels of {FANOUT}', 'time ratio to numpy',
                  partial(_descend, top, children, queries), partial(_np_descend, np_top, np_children, np_queries),
                  9, ('queries', QUERIES))]


def scan(vsa) -> list[Probe]:
    """Top-10 over a 50 MB codebook, against numpy's bitwise_count scan and against reading the buffer once."""
    rows = [vsa.random(seed=10_000 + i).to_packed() for i in range(SCAN_ROWS)]
    book, (pos, neg) = vsa.PackedMatrix.from_vectors(rows), numpy_ref.planes(rows)
    q = vsa.random(seed=7).to_packed()
    words = np.asarray(book.words)
    subject, nbytes = partial(book.top_k, q, 10), float(words.nbytes)
    return [Probe('scan/top_k/vs-numpy', f'top-10 of {SCAN_ROWS:,} rows vs numpy', 'time ratio to numpy', subject,
                  partial(numpy_ref.top_k, pos, neg, q.pos_words, q.neg_words, 10), 15, ('bytes', nbytes)),
            Probe('scan/top_k/vs-bandwidth', f'top-10 of {SCAN_ROWS:,} rows vs one read of the buffer',
                  'time ratio to a read', subject, partial(numpy_ref.read_all, words), 15, ('bytes', nbytes))]


def scan_ratios(bandwidth: dict | None, vs_numpy: dict | None) -> dict:
    """The report's rates from the scan probes' medians: read bandwidth, scan rate, their fraction."""
    if not bandwidth:
        return {}
    nbytes = bandwidth['work'][1]
    bw, rate = nbytes / bandwidth['reference_ns'], nbytes / bandwidth['subject_ns']
    return {'bandwidth_gb_per_s': bw, 'scan_gb_per_s': rate, 'scan_fraction_of_bandwidth': rate / bw,
            'scan_vs_numpy': (vs_numpy or {}).get('ratio')}


def _switched(set_path, path, fn):
    set_path(path)
    fn()


def avx512(vsa, set_path, injected: dict[str, float]) -> list[Probe]:
    """The SIMD cases on the AVX-512 path timed against the same cases on AVX2 (valgrind cannot run AVX-512)."""
    out = []
    set_path('avx512')
    wide = simd_cases(vsa, 'avx512')
    set_path('avx2')
    for case in wide:
        calls = case.calls * 10
        subject = repeat(case.fn, calls + 10 * extra_calls(case, injected))
        out.append(Probe(f'{case.id}-vs-avx2', f'{case.label} vs avx2', 'time ratio to avx2',
                         partial(_switched, set_path, 'avx512', subject),
                         partial(_switched, set_path, 'avx2', repeat(case.fn, calls)), 21, ('calls', calls)))
    return out


def timed_kernels(vsa, groups: set[str], injected: dict[str, float]) -> list[Probe]:
    """Without valgrind: each kernel case timed against a fixed numpy workload (noisier; a different unit)."""
    calibration = partial(np.bitwise_count, np.arange(2 * 157 * 64, dtype=np.uint64))
    return [Probe(case.id, case.label, 'time ratio to calibration',
                  repeat(case.fn, case.calls + extra_calls(case, injected)), calibration, 9, ('calls', case.calls))
            for case in kernel_cases(vsa, groups)]


def _index_build(Index, vecs):
    Index.from_vectors(vecs).refresh()


def _np_build(vecs):
    numpy_ref.planes([v.to_packed() for v in vecs])


def _index_queries(index, queries):
    for q in queries:
        index.query(q, 10)


def _np_queries(pos, neg, queries):
    for qp, qn in queries:
        numpy_ref.top_k(pos, neg, qp, qn, 10)


def retrieval(vsa) -> list[Probe]:
    """Index build (codebook and postings) over 10K items, and 100 top-10 queries; numpy on the same planes."""
    from embeddenator.retrieval import Index   # ImportError: the worker notes the group as skipped
    vecs, _ = _pool(vsa, RETRIEVAL_ITEMS)
    index = Index.from_vectors(vecs)
    index.refresh()
    pos, neg = numpy_ref.planes([v.to_packed() for v in vecs])
    queries = [vecs[(i * 7919) % RETRIEVAL_ITEMS] for i in range(RETRIEVAL_QUERIES)]
    packed = [(q.to_packed().pos_words, q.to_packed().neg_words) for q in queries]
    return [Probe('retrieval/build/10k', f'index build, {RETRIEVAL_ITEMS:,} items', 'time ratio to numpy',
                  partial(_index_build, Index, vecs), partial(_np_build, vecs), 5, ('items', RETRIEVAL_ITEMS)),
            Probe('retrieval/query/10k', f'{RETRIEVAL_QUERIES} top-10 queries, {RETRIEVAL_ITEMS:,} items',
                  'time ratio to numpy', partial(_index_queries, index, queries),
                  partial(_np_queries, pos, neg, packed), 7, ('queries', RETRIEVAL_QUERIES))]
