"""`doit clean` that means clean: every task's clean actions, then the rest of what the repository calls generated.

doit's own `clean` without a task name cleans only the default tasks (build and test), so reports, packages, docs
and benchmark builds would stay. This command (registered in pyproject.toml under [tool.doit.plugins.command])
cleans every task when none is named, then removes every path the repository ignores as generated (.gitignore:
build/, dist/, reports/*, docs/api/, compiled modules, Cython's C files, caches) except:

- doit's state file (`dep_file`, .doit.json), which records what is up to date;
- virtual environments (any folder holding a pyvenv.cfg): made by the user, not by a task;
- the local index's storage (`registry-dir`, .registry/): what was published stays served, as the release tags
  say; `doit clean publish` removes it.

With task names it is doit's `clean` (their clean actions; `--clean-dep` for what they depend on), and naming
`publish` also removes the local index's storage.
"""
from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

from doit.cmd_clean import Clean as DoitClean

STATE_FILES = ('.doit.json*', '.doit.db*')


def ignored_paths(root: Path) -> list[str]:
    """Paths git ignores in `root` (folders once, with a trailing slash); [] outside a git repository."""
    try:
        proc = subprocess.run(['git', 'ls-files', '--others', '--ignored', '--exclude-standard', '--directory'],
                              cwd=root, capture_output=True, text=True)
    except OSError:
        return []
    return sorted(filter(None, proc.stdout.splitlines())) if proc.returncode == 0 else []


def kept(path: str, root: Path, registry: str) -> bool:
    """Whether `doit clean` keeps `path` (relative to `root`): doit's state, a virtual environment, the index."""
    name = path.rstrip('/')
    if any(fnmatch.fnmatch(name, pattern) for pattern in STATE_FILES):
        return True
    if name == registry.strip('/'):
        return True
    return path.endswith('/') and (root / name / 'pyvenv.cfg').is_file()


def leftovers(root: Path, registry: str) -> list[str]:
    """What `doit clean` removes after the tasks' own clean actions."""
    return [p for p in ignored_paths(root) if not kept(p, root, registry)]


def remove(root: Path, paths: list[str], dryrun: bool, out=sys.stdout) -> None:
    for rel in paths:
        target = root / rel.rstrip('/')
        print(f'{"would remove" if dryrun else "removing"} {rel}', file=out)
        if dryrun:
            continue
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def _registry_dir() -> str:
    from tasks.core.config import settings
    return settings().get('registry-dir', '.registry')


class Clean(DoitClean):
    doc_purpose = 'remove what the tasks generated (every task if none is named)'
    doc_description = ('Without a task name: every task\'s clean actions, then every git-ignored path except '
                       'doit\'s state, virtual environments and the local index\'s storage. With names: those '
                       'tasks\' clean actions (naming `publish` also removes the local index\'s storage).')

    def _execute(self, dryrun, cleandep, cleanall, cleanforget, pos_args=None):
        everything = not pos_args
        result = super()._execute(dryrun, cleandep, cleanall or everything, cleanforget, pos_args)
        root, registry = Path.cwd(), _registry_dir()
        if everything or cleanall:
            remove(root, leftovers(root, registry), dryrun, self.outstream)
        elif any(name == 'publish' or name.startswith('publish:') for name in pos_args):
            if (root / registry).exists():
                remove(root, [registry], dryrun, self.outstream)
        return result
