"""The holographic filesystem: directory trees as engrams, extracted bit-perfectly.

    from embeddenator import fs
    engram = fs.ingest_to(['src/'], 'tree.engram')      # or fs.ingest(...) in memory, fs.save(engram, path)
    fs.extract(fs.load('tree.engram'), 'out/')           # every file verified against its SHA-256
    hits = fs.query(engram, b'some bytes', k=5)          # most similar files and chunks
"""
from importlib.metadata import PackageNotFoundError, version as _version

from embeddenator.fs.codec import CODEC_VERSION, ChunkCodec
from embeddenator.fs.engram import SCHEMA, Engram, load, save, verify
from embeddenator.fs.errors import FsError, FsWarning, IntegrityError
from embeddenator.fs.extract import extract, read_file
from embeddenator.fs.hierarchy import MAX_NNZ, Sparse, prefix_shift
from embeddenator.fs.ingest import ingest, ingest_entries, ingest_to
from embeddenator.fs.manifest import Entry
from embeddenator.fs.walk import scan
from embeddenator.fs.query import Hit, query

try:
    __version__ = _version('embeddenator-fs')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'

__all__ = ['CODEC_VERSION', 'ChunkCodec', 'Engram', 'Entry', 'FsError', 'FsWarning', 'Hit', 'IntegrityError',
           'MAX_NNZ', 'SCHEMA', 'Sparse', 'extract', 'ingest', 'ingest_entries', 'ingest_to', 'load', 'prefix_shift',
           'query', 'read_file', 'save', 'scan', 'verify', '__version__']
