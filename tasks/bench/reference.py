"""The bench gate's reference: which commit is the last release, and its kernels built once in a private folder.

Which commit (`reference_commit`): the setting `bench-reference` (a git revision) if given; otherwise the newest
release tag (`tag-pattern`) of the measured components that HEAD contains; with no such tag, the merge-base with the
default branch when HEAD is on another branch, else HEAD~1. The report states which rule chose it.

Its build (`build_reference`): a detached `git worktree` of that commit under build/bench/reference/, whose
measured components' sources are copied into an import root and whose extensions are compiled there (in a child
process: Cython caches build options per process). The worktree is removed afterwards; the import root stays,
keyed by the commit and the compiler fingerprint, so the cost is paid once per release and toolchain.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import asdict, dataclass
from importlib.metadata import version as _dist_version
from pathlib import Path

from tasks.core.errors import PluginError
from tasks.core.heartbeat import run as run_with_heartbeat

SETTING = 'bench-reference'
DEFAULT_TAG_PATTERN = 'embeddenator-{name}-v{version}'


class ReferenceError(PluginError):
    """The reference cannot be chosen or built; the message says which commit, what failed and what to do."""


@dataclass(frozen=True)
class Reference:
    commit: str     # full SHA
    how: str        # for people: which rule chose it

    def as_dict(self) -> dict:
        return asdict(self)


def git(root: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(['git', *args], cwd=root, capture_output=True, text=True)
    if check and proc.returncode:
        raise ReferenceError(f'git {" ".join(args)} failed in {root}: {proc.stderr.strip()}')
    return proc.stdout.strip() if proc.returncode == 0 else ''


def release_tags(root: Path, tag_pattern: str, names: list[str]) -> list[tuple[str, str, int]]:
    """(tag, commit, commit time) of every release tag of `names` contained in HEAD, newest commit first."""
    globs = [tag_pattern.format(name=n, version='*') for n in names]
    fmt = '%(refname:short)%09%(*objectname)%09%(objectname)%09%(*committerdate:unix)%09%(committerdate:unix)'
    out = git(root, 'for-each-ref', '--merged', 'HEAD', f'--format={fmt}', *[f'refs/tags/{g}' for g in globs],
              check=False)
    tags = []
    for line in filter(None, out.splitlines()):
        # an annotated tag has no committer date of its own: the last field is empty, and the output's strip()
        # has taken the last line's final tab with it
        tag, peeled, obj, peeled_time, obj_time = (line.split('\t') + [''])[:5]
        tags.append((tag, peeled or obj, int(peeled_time or obj_time or 0)))
    return sorted(tags, key=lambda t: (-t[2], t[0]))


def default_branch(root: Path) -> str | None:
    """origin's HEAD branch if the clone knows it, else a local main or master."""
    head = git(root, 'symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD', check=False)
    if head:
        return head
    for name in ('main', 'master'):
        if git(root, 'rev-parse', '--verify', '--quiet', f'refs/heads/{name}', check=False):
            return name
    return None


def reference_commit(root: Path, setting: str | None, tag_pattern: str, names: list[str]) -> Reference:
    """The commit the current tree is compared with, and the rule that chose it (see the module docstring)."""
    root = Path(root)
    if setting:
        sha = git(root, 'rev-parse', '--verify', '--quiet', f'{setting}^{{commit}}', check=False)
        if not sha:
            raise ReferenceError(f'setup.cfg [embeddenator] {SETTING} = {setting}: no such commit; '
                                 'name a tag, branch or SHA, or remove the setting to use the last release')
        return Reference(sha, f'{SETTING} = {setting}')
    tags = release_tags(root, tag_pattern, names)
    if tags:
        tag, sha, _ = tags[0]
        return Reference(sha, f'newest release tag of the measured components: {tag}')
    head = git(root, 'rev-parse', 'HEAD')
    branch = default_branch(root)
    if branch:
        base = git(root, 'merge-base', 'HEAD', branch, check=False)
        if base and base != head:
            return Reference(base, f'no release tag yet: merge-base of HEAD with {branch}')
    parent = git(root, 'rev-parse', '--verify', '--quiet', 'HEAD~1', check=False)
    if parent:
        return Reference(parent, 'no release tag yet: HEAD~1 (HEAD is on the default branch)')
    return Reference(head, 'no release tag and no earlier commit: HEAD itself')


def compiler_fingerprint() -> dict:
    """What besides the commit changes the compiled reference: compiler, flags, ABI, Cython."""
    from tasks.bench.fingerprint import first_line
    cc = sysconfig.get_config_var('CC') or 'cc'
    return {'cc': cc, 'cc_version': first_line([cc.split()[0], '--version']),
            'cflags': sysconfig.get_config_var('CFLAGS'), 'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),
            'cython': _dist_version('Cython')}


def cache_key(commit: str, compiler: dict) -> str:
    digest = hashlib.sha256(json.dumps(compiler, sort_keys=True).encode()).hexdigest()[:12]
    return f'{commit[:12]}-{digest}'


def build_reference(root: Path, ref: Reference, cache: Path, names: list[str]) -> Path:
    """The import root of the reference's measured components, compiled; built once per commit and compiler."""
    root = Path(root).resolve()
    folder = cache / cache_key(ref.commit, compiler_fingerprint())
    snapshot, stamp = folder / 'snapshot', folder / 'complete.json'
    if stamp.exists() and snapshot.is_dir():
        return snapshot
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tree = folder / 'worktree'
    git(root, 'worktree', 'add', '--detach', '--force', str(tree), ref.commit)
    try:
        print(f'bench: building the reference {ref.commit[:12]} ({ref.how}) in {folder}', file=sys.stderr,
              flush=True)
        proc = run_with_heartbeat([sys.executable, '-m', 'tasks.bench.reference', str(tree), str(snapshot),
                                   str(folder / 'build'), *names], 'bench',
                                  f'compiling the reference {ref.commit[:12]}', cwd=root, capture_output=True,
                                  text=True)
        if proc.returncode:
            tail = '\n'.join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise ReferenceError(f'the reference {ref.commit[:12]} ({ref.how}) does not build: {tail}; set '
                                 f'[embeddenator] {SETTING} to a commit that builds')
    finally:
        git(root, 'worktree', 'remove', '--force', str(tree), check=False)
        git(root, 'worktree', 'prune', check=False)
    shutil.rmtree(folder / 'build', ignore_errors=True)
    stamp.write_text(json.dumps({**ref.as_dict(), 'compiler': compiler_fingerprint()}, indent=2) + '\n',
                     encoding='utf-8')
    return snapshot


def _compile(tree: Path, snapshot: Path, build: Path, names: list[str]) -> None:
    """In the child process: copy the measured components' sources out of `tree` and compile their extensions."""
    from tasks.core.config import read_settings
    from tasks.core.kernels import compile_extension, directives, extension_target
    from tasks.core.workspace import load_workspace
    ws = load_workspace(tree, read_settings(tree).components)
    for name in names:
        comp = ws.components.get(name)
        if comp is None:
            continue   # a component the release did not have yet: the current side alone measures it
        src = comp.root / 'src'
        shutil.copytree(src, snapshot, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('*.egg-info', '__pycache__', '*.so', '*.partial'))
        for ext in comp.extensions:
            target = snapshot / extension_target(comp, ext).relative_to(src)
            compile_extension(str(tree), str(comp.root), ext, directives(comp), str(build / name), str(target))


if __name__ == '__main__':
    _tree, _snapshot, _build, *_names = sys.argv[1:]
    _compile(Path(_tree), Path(_snapshot), Path(_build), _names)
