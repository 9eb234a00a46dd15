"""Runs inside a fresh environment (stdlib only): import a package and check what got installed.

Usage: python -I smoke.py '{"package": ..., "modules": [...], "versions": {dist: version}, "forbidden_root": ...}'
Exit status 1 with one line on stderr names what is wrong.
"""
import importlib
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def main(spec: dict) -> int:
    problems = []
    for dist, wanted in spec['versions'].items():
        try:
            got = version(dist)
        except PackageNotFoundError:
            got = None
        if got != wanted:
            problems.append(f'{dist} resolved to {got}, expected {wanted}')
    for name in [spec['package'], *spec['modules']]:
        try:
            module = importlib.import_module(name)
        except Exception as err:  # any import failure is the finding
            problems.append(f'import {name}: {type(err).__name__}: {err}')
            continue
        where = Path(getattr(module, '__file__', None) or next(iter(module.__path__), ''))
        root = spec.get('forbidden_root')
        if root and Path(root) in where.resolve().parents:
            problems.append(f'{name} was imported from the workspace ({where}), not from the environment')
        print(f'{name}: ok ({where})')
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(json.loads(sys.argv[1])))
