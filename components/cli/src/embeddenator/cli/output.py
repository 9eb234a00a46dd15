"""What the commands print: human-readable lines by default, one JSON object with --json."""
from __future__ import annotations

import json
import sys


def emit(result: dict, as_json: bool, lines: list[str], stream=None) -> None:
    """Write `result` as one JSON object when `as_json`, else `lines`, to `stream` (default stdout).

    >>> from embeddenator.cli.output import emit
    >>> emit({'files': 2}, False, ['2 files'])
    2 files
    >>> emit({'files': 2}, True, ['2 files'])
    {
      "files": 2
    }
    """
    stream = stream or sys.stdout
    if as_json:
        stream.write(json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + '\n')
    else:
        stream.write('\n'.join(lines) + '\n')


def table(rows: list[list], header: list[str]) -> list[str]:
    """`rows` under `header` as left-aligned text columns, two spaces apart, one string per line.

    >>> from embeddenator.cli.output import table
    >>> print('\\n'.join(table([[40, 'a.txt'], [-5, 'docs/b.bin']], ['score', 'path'])))
    score  path
    40     a.txt
    -5     docs/b.bin
    """
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def megabytes(n: int) -> str:
    """`n` bytes in decimal megabytes, two decimals: `megabytes(1_500_000)` is '1.50 MB'."""
    return f'{n / 1e6:.2f} MB'
