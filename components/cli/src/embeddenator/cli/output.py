"""What the commands print: human-readable lines by default, one JSON object with --json."""
from __future__ import annotations

import json
import sys


def emit(result: dict, as_json: bool, lines: list[str], stream=None) -> None:
    stream = stream or sys.stdout
    if as_json:
        stream.write(json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + '\n')
    else:
        stream.write('\n'.join(lines) + '\n')


def table(rows: list[list], header: list[str]) -> list[str]:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def megabytes(n: int) -> str:
    return f'{n / 1e6:.2f} MB'
