"""Public API checks run in a separate interpreter: every public function and class has a docstring, and the
examples in those docstrings pass as doctests.

`python -m tasks.release.apicheck embeddenator.vsa` prints one JSON object; a fresh process sees the
extension just built.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import io
import json
import pkgutil
import sys
from types import ModuleType


def modules(package: str) -> list[ModuleType]:
    """The package and its submodules, private ones included (their public names may be re-exported)."""
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(getattr(root, '__path__', []), prefix=package + '.'):
        if info.name.rsplit('.', 1)[-1] == '__main__':
            continue
        found.append(importlib.import_module(info.name))
    return found


def public_objects(module: ModuleType) -> list[tuple[str, object]]:
    """Public functions and classes defined in `module` (or listed in its __all__), and public methods of those."""
    names = getattr(module, '__all__', None) or [n for n in vars(module) if not n.startswith('_')]
    out = []
    for name in names:
        obj = getattr(module, name, None)
        if not (inspect.isroutine(obj) or inspect.isclass(obj)):
            continue
        exported = name in getattr(module, '__all__', ())
        if getattr(obj, '__module__', module.__name__) != module.__name__ and not exported:
            continue   # imported from elsewhere: checked where it is defined
        out.append((f'{module.__name__}.{name}', obj))
        if inspect.isclass(obj):
            out.extend((f'{module.__name__}.{name}.{attr}', member) for attr, member in vars(obj).items()
                       if not attr.startswith('_') and inspect.isroutine(member))
    return out


def undocumented(mods: list[ModuleType]) -> list[str]:
    seen, out = set(), []
    for module in mods:
        for qualname, obj in public_objects(module):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if not (getattr(obj, '__doc__', None) or '').strip():
                out.append(qualname)
    return sorted(out)


def run_doctests(mods: list[ModuleType]) -> dict:
    finder, attempted, failures = doctest.DocTestFinder(), 0, []
    for module in mods:
        output = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(module):
            runner.run(test, out=output.write)
        attempted += runner.tries
        if runner.failures:
            failures.append(f'{module.__name__}: {runner.failures} failed\n{output.getvalue()}')
    return {'attempted': attempted, 'failures': failures}


def main(package: str) -> int:
    mods = modules(package)
    print(json.dumps({'undocumented': undocumented(mods), 'doctests': run_doctests(mods)}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
