"""JSON manifests inside an envelope: checksummed, optionally compressed, tagged with a schema name."""
from __future__ import annotations

import json

from embeddenator.io.envelope import DEFAULT_MAX_BYTES, read_envelope, write_envelope
from embeddenator.io.errors import FormatError
from embeddenator.io.header import Kind
from embeddenator.io.payload import check_schema, with_schema


def write_json(path, obj, codec='none', schema: str | None = None):
    """Write `obj` as a JSON manifest (keys sorted; NaN and infinity raise ValueError). Returns the path.

    >>> import os, tempfile
    >>> from embeddenator.io import read_json, write_json
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, 'manifest.edn')
    ...     _ = write_json(path, {'files': ['a.txt'], 'n': 1}, codec='zlib', schema='demo/1')
    ...     read_json(path, schema='demo/1')
    {'files': ['a.txt'], 'n': 1}
    """
    data = json.dumps(obj, sort_keys=True, indent=1, allow_nan=False).encode('utf-8')
    return write_envelope(path, Kind.JSON, [data], with_schema({}, schema), codec)


def read_json(path, schema: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
    """The value stored by `write_json`; FormatError if the file is corrupt, not a manifest or of another schema."""
    env = read_envelope(path, Kind.JSON, max_bytes=max_bytes)
    check_schema(env, schema)
    try:
        return json.loads(bytes(env.payload).decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise FormatError(env.path, env.payload_offset, f'manifest is not UTF-8 JSON: {err}') from None
