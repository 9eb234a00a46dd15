"""Run the benchmark groups and return their metrics; what the numbers mean is in METHOD.

    python -m tasks.bench.suite.run [--groups vsa-ops,simd] [--out results.json]

is the same suite outside doit (the `bench` task adds the fingerprint, the commit, the baseline and the gate).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from tasks.bench.suite import callgrind
from tasks.bench.suite.ab import GROUPS, METHOD, Side, compare  # noqa: F401 (GROUPS, METHOD: the suite's names)


def run_groups(groups: list[str], marker: Path | None) -> dict:
    """{'groups': [...], 'ratios': {...}, 'seconds': s}: every requested group that can run here, current tree only."""
    return compare(groups, marker, [Side('current')])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--groups', default=','.join(GROUPS))
    parser.add_argument('--marker', default='build/bench/cgmark.so')
    parser.add_argument('--out')
    args = parser.parse_args(argv)
    marker = Path(args.marker)
    if callgrind.available() and not marker.exists():
        callgrind.build_marker(marker)
    out = run_groups(args.groups.split(','), marker)
    text = json.dumps(out, indent=2)
    if args.out:
        Path(args.out).write_text(text + '\n', encoding='utf-8')
    else:
        print(text)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
