"""The `embeddenator` command line.

`embeddenator.cli.__main__.main(argv)` runs one command and returns its exit code (0 ok, 1 user error, 2 data
error); messages for people go to stdout, errors to stderr:

>>> import contextlib, io, os, tempfile
>>> from embeddenator.cli.__main__ import main
>>> with tempfile.TemporaryDirectory() as tmp:
...     src, engram = os.path.join(tmp, 'src'), os.path.join(tmp, 'tree.engram')
...     os.mkdir(src)
...     with open(os.path.join(src, 'a.txt'), 'w') as out:
...         _ = out.write('hello engram')
...     main(['ingest', src, '-o', engram, '--workers', '1'])
...     main(['extract', engram, '-o', os.path.join(tmp, 'out')])
...     errors = io.StringIO()
...     with contextlib.redirect_stderr(errors):
...         main(['info', os.path.join(tmp, 'missing.engram')])
ingested 1 files, 0 dirs, 0 symlinks (0.00 MB) into ...tree.engram in ... s (... MB/s)
1 chunks, 1 unique, 0 corrected; engram ... MB
0
extracted 1 entries (0.00 MB) to ...out; every file matched its SHA-256 (... s)
0
1
>>> print(errors.getvalue().replace(tmp, 'TMP'), end='')
embeddenator info: TMP/missing.engram: no such engram; check the path
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version('embeddenator-cli')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0+unknown'
