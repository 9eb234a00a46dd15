"""Top-k retrieval (exact, or approximate in two stages) over codebooks of ternary hypervectors.

    from embeddenator import vsa
    from embeddenator.retrieval import Index

    index = Index.from_vectors([vsa.random(seed=i) for i in range(1000)])
    ids, scores = index.query(vsa.random(seed=3), k=5)      # exact dot products; ties: smaller id first
    ids, scores = index.query(vsa.random(seed=3), k=5, strategy='approx')   # reads a fraction; may miss a row
    index.save('codebook.idx'); index = Index.load('codebook.idx')
    Resonator([book_a, book_b, book_c]).factorize(a * b * c)   # which row of each codebook: (ia, ib, ic)
    ShardedIndex(save_shards('book', index, shards=8)).query(v)  # shards on a local Dask cluster, merged exactly
"""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.retrieval.approx import Approx
from embeddenator.retrieval.index import STRATEGIES, Index
from embeddenator.retrieval.resonator import Factorization, Resonator
from embeddenator.retrieval.shards import ShardedIndex, save_shards

try:
    __version__ = _version('embeddenator-retrieval')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

__all__ = ['Approx', 'Factorization', 'Index', 'Resonator', 'STRATEGIES', 'ShardedIndex', 'save_shards', '__version__']
