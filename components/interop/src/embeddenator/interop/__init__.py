"""Conversions between hypervectors and numpy arrays, .npy/.npz, JSON and float embeddings.

    from embeddenator import interop
    arrays = interop.to_arrays(vectors, 'packed')          # or 'dense', 'sparse'; from_arrays(arrays) inverts
    interop.save('vectors.npz', vectors); interop.load('vectors.npz')      # .npy, .npz, .json by suffix
    ternary = interop.quantize(float_embeddings, k=32)     # top-k magnitudes as signs
    interop.export_engram(engram, 'tree.npz')              # an engram's vectors for other tools
"""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.interop.arrays import FORMS, InteropError, as_sparse, from_arrays, to_arrays
from embeddenator.interop.export import export_engram
from embeddenator.interop.files import (from_json, load, load_json, load_npy, load_npz, save, save_json, save_npy,
                                        save_npz, to_json)
from embeddenator.interop.quantize import quantize, to_float

try:
    __version__ = _version('embeddenator-interop')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

__all__ = ['FORMS', 'InteropError', 'as_sparse', 'export_engram', 'from_arrays', 'from_json', 'load', 'load_json',
           'load_npy', 'load_npz', 'quantize', 'save', 'save_json', 'save_npy', 'save_npz', 'to_arrays', 'to_float',
           'to_json', '__version__']
