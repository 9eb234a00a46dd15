"""Files as every stage sees them: what a run can observe under a set of paths, atomic replacement, removal."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from tasks.core.workspace import Component, Workspace

# Generated or irrelevant to a test run: never an input.
_SKIP_DIRS = {'__pycache__', 'build', 'dist', '.pytest_cache', '.hypothesis', '.benchmarks'}
_SKIP_SUFFIXES = {'.so', '.pyd', '.pyc', '.o', '.partial', '.md'}


def _cython_output(name: str, siblings: list[str]) -> bool:
    """Whether `name` is what Cython writes beside a `.pyx` (`x.c`, `x.cpp`, `x.html`): generated, never an input."""
    stem, suffix = os.path.splitext(name)
    return suffix in ('.c', '.cpp', '.html') and f'{stem}.pyx' in siblings


def source_files(paths: Iterable[Path]) -> list[Path]:
    """Files under `paths` that a test run can observe (sources, tests, manifests), without generated ones."""
    out: list[Path] = []
    for base in paths:
        if base.is_file():
            out.append(base)
            continue
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith('.egg-info'))
            out.extend(Path(folder, f) for f in sorted(files)
                       if Path(f).suffix not in _SKIP_SUFFIXES and not _cython_output(f, files))
    return out


def component_files(ws: Workspace, comp: Component) -> list[Path]:
    return source_files(ws.root / p for p in comp.paths)


def rel(path: Path, root: Path) -> str:
    """`path` relative to `root` when it is inside, else as given: how messages name files."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def file_mode() -> int:
    """The mode a plain `open(path, 'w')` would give (0666 less the umask): mkstemp's own is 0600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_beside(path: Path) -> tuple[int, str]:
    """A temporary file next to `path` (same filesystem, so os.replace is atomic) with an ordinary file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix='.partial')
    os.fchmod(fd, file_mode())
    return fd, tmp


def replace_file(path: Path, data: str | bytes) -> None:
    """Write through a temporary file in the same folder, then os.replace: readers never see half a file, and a
    process that has the old file open (or mapped) keeps its copy."""
    path = Path(path)
    fd, tmp = temporary_beside(path)
    try:
        with os.fdopen(fd, 'wb') as fh:
            fh.write(data.encode('utf-8') if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_copy(source: Path, target: Path) -> None:
    """Copy `source` over `target` the way replace_file writes (mode bits of the source kept)."""
    replace_file(target, Path(source).read_bytes())
    shutil.copymode(source, target)


def remove_tree(path: str) -> None:
    """A `clean` action: remove a scratch folder if it is there."""
    shutil.rmtree(path, ignore_errors=True)
