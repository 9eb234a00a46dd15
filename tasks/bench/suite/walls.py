"""The wall-clock groups: hierarchical scale and query, retrieval, the codebook scan, and the AVX-512 path.

Every metric is a time ratio against a reference measured in the same run (tasks.bench.suite.timing): the numpy
equivalent of the same work on the same data, the memory-bandwidth probe, or the AVX2 path.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from tasks.bench.suite import numpy_ref
from tasks.bench.suite.cases import extra_calls, simd_cases
from tasks.bench.suite.timing import Timing, interleaved, repeat

FANOUT = 100           # children per node of the hierarchy
POOL = 10_000          # distinct random items; larger scales reuse them (bundling cost does not depend on which)
SCALES = {'10k': (10_000, 7), '100k': (100_000, 5), '1m': (1_000_000, 3)}   # items, rounds
QUERIES = 1_000
SCAN_ROWS = 20_000     # 2 x 157 words x 8 B x 20K rows = 50 MB: larger than the last-level cache
# The bootstrap interval only sees the scatter inside one run; separate runs (other processes, other memory
# placement) were seen to differ by 5-15% on the shared machine, so no wall-clock interval is narrower than this.
CI_FLOOR = 0.05


def metric(id_: str, label: str, t: Timing, unit: str, **detail) -> dict:
    return {'id': id_, 'group': id_.split('/', 1)[0], 'label': label, 'value': t.ratio, 'unit': unit,
            'rel_ci': max(t.rel_ci, CI_FLOOR), 'method': 'wall-clock', 'rounds': t.rounds,
            'detail': {'subject_ms': t.subject_ns / 1e6, 'reference_ms': t.reference_ns / 1e6, **detail}}


def _hier(vsa, items, keep):
    level = items
    while len(level) > 1:
        level = [vsa.thin(vsa.bundle_many(level[i:i + FANOUT]), keep, seed=i)
                 for i in range(0, len(level), FANOUT)]
    return level[0]


def _pool(vsa, n=POOL):
    vecs = [vsa.random(seed=i) for i in range(n)]
    return vecs, [(np.asarray(v.pos), np.asarray(v.neg)) for v in vecs]


def hier_scale(vsa, scales=SCALES) -> list[dict]:
    """Bundle N items into one root, FANOUT at a time, thinning every node back to 4 x DEFAULT_NNZ."""
    vecs, arrays = _pool(vsa)
    keep, out = 4 * vsa.DEFAULT_NNZ, []
    for name, (n, rounds) in scales.items():
        items = [vecs[i % POOL] for i in range(n)]
        refs = [arrays[i % POOL] for i in range(n)]
        reference = partial(numpy_ref.hierarchy, refs, vsa.DEFAULT_DIM, FANOUT, keep)
        t = interleaved(partial(_hier, vsa, items, keep), reference, rounds=rounds)
        out.append(metric(f'hier-scale/bundle/{name}', f'hierarchical bundle of {n:,} items',
                          t, 'time ratio to numpy', items_per_s=n / (t.subject_ns / 1e9)))
    return out


def _descend(top, children, queries):
    for q in queries:
        (node,), _ = top.top_k(q, 1)
        children[int(node)].top_k(q, 1)


def _np_descend(top, children, queries):
    for qp, qn in queries:
        node = numpy_ref.top_k(*top, qp, qn, 1)[0]
        numpy_ref.top_k(*children[int(node)], qp, qn, 1)


def hier_query(vsa) -> list[dict]:
    """1K queries descending a two-level hierarchy of 10K items (100 nodes of 100 leaves): best node, best leaf."""
    vecs, _ = _pool(vsa)
    keep = 4 * vsa.DEFAULT_NNZ
    leaves = [[v.to_packed() for v in vecs[i:i + FANOUT]] for i in range(0, POOL, FANOUT)]
    nodes = [vsa.thin(vsa.bundle_many(vecs[i:i + FANOUT]), keep, seed=i).to_packed() for i in range(0, POOL, FANOUT)]
    queries = [vecs[(i * 7919) % POOL].to_packed() for i in range(QUERIES)]
    top, children = vsa.PackedMatrix.from_vectors(nodes), [vsa.PackedMatrix.from_vectors(c) for c in leaves]
    np_top, np_children = numpy_ref.planes(nodes), [numpy_ref.planes(c) for c in leaves]
    np_queries = [(q.pos_words, q.neg_words) for q in queries]
    t = interleaved(partial(_descend, top, children, queries), partial(_np_descend, np_top, np_children, np_queries),
                    rounds=9)
    return [metric('hier-query/descend/1k', f'{QUERIES:,} queries, 2 levels of {FANOUT}', t, 'time ratio to numpy',
                   queries_per_s=QUERIES / (t.subject_ns / 1e9))]


def scan(vsa) -> tuple[list[dict], dict]:
    """Top-10 over a 50 MB codebook, against numpy's bitwise_count scan and against reading the buffer once."""
    rows = [vsa.random(seed=10_000 + i).to_packed() for i in range(SCAN_ROWS)]
    book, (pos, neg) = vsa.PackedMatrix.from_vectors(rows), numpy_ref.planes(rows)
    q = vsa.random(seed=7).to_packed()
    words = np.asarray(book.words)
    res = interleaved(partial(book.top_k, q, 10), partial(numpy_ref.top_k, pos, neg, q.pos_words, q.neg_words, 10),
                      rounds=21, bandwidth=partial(numpy_ref.read_all, words))
    nbytes = words.nbytes
    bw = nbytes / res['bandwidth'].reference_ns
    scan_rate = nbytes / res['reference'].subject_ns
    metrics = [metric('scan/top_k/vs-numpy', f'top-10 of {SCAN_ROWS:,} rows vs numpy', res['reference'],
                      'time ratio to numpy', mb=nbytes / 1e6),
               metric('scan/top_k/vs-bandwidth', f'top-10 of {SCAN_ROWS:,} rows vs one read of the buffer',
                      res['bandwidth'], 'time ratio to a read', gb_per_s=scan_rate, read_gb_per_s=bw)]
    ratios = {'bandwidth_gb_per_s': bw, 'scan_gb_per_s': scan_rate, 'scan_vs_numpy': res['reference'].ratio,
              'scan_fraction_of_bandwidth': scan_rate / bw}
    return metrics, ratios


def avx512(vsa, set_path, injected: dict[str, float]) -> list[dict]:
    """The SIMD cases on the AVX-512 path timed against the same cases on AVX2 (valgrind cannot run AVX-512)."""
    out = []
    set_path('avx512')
    wide = simd_cases(vsa, 'avx512')
    set_path('avx2')
    for case in wide:
        calls = case.calls * 10
        subject = repeat(case.fn, calls + 10 * extra_calls(case, injected))
        t = interleaved(partial(_switched, set_path, 'avx512', subject),
                        partial(_switched, set_path, 'avx2', repeat(case.fn, calls)), rounds=31)
        out.append(metric(f'{case.id}-vs-avx2', f'{case.label} vs avx2', t, 'time ratio to avx2',
                          ns_per_call=t.subject_ns / calls))
    set_path('avx2')
    return out


def _switched(set_path, path, fn):
    set_path(path)
    fn()


RETRIEVAL_ITEMS = 10_000
RETRIEVAL_QUERIES = 100


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


def retrieval() -> tuple[list[dict], str | None]:
    """Index build (codebook and postings) over 10K items, and 100 top-10 queries; numpy on the same planes."""
    try:
        from embeddenator import vsa
        from embeddenator.retrieval import Index
    except ImportError as err:
        return [], f'skipped: {err}'
    vecs, _ = _pool(vsa, RETRIEVAL_ITEMS)
    build = interleaved(partial(_index_build, Index, vecs), partial(_np_build, vecs), rounds=5)
    index = Index.from_vectors(vecs)
    index.refresh()
    pos, neg = numpy_ref.planes([v.to_packed() for v in vecs])
    queries = [vecs[(i * 7919) % RETRIEVAL_ITEMS] for i in range(RETRIEVAL_QUERIES)]
    packed = [q.to_packed() for q in queries]
    query = interleaved(partial(_index_queries, index, queries),
                        partial(_np_queries, pos, neg, [(q.pos_words, q.neg_words) for q in packed]), rounds=7)
    return [metric('retrieval/build/10k', f'index build, {RETRIEVAL_ITEMS:,} items', build, 'time ratio to numpy',
                   items_per_s=RETRIEVAL_ITEMS / (build.subject_ns / 1e9)),
            metric('retrieval/query/10k', f'{RETRIEVAL_QUERIES} top-10 queries, {RETRIEVAL_ITEMS:,} items', query,
                   'time ratio to numpy', queries_per_s=RETRIEVAL_QUERIES / (query.subject_ns / 1e9))], None
