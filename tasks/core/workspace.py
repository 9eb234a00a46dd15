"""The workspace model: components read from their manifests, their dependency graph and publish levels.

Everything here is pure: it reads `pyproject.toml` files and returns frozen values, so the rest of the plugin (and
its tests) never parse a manifest themselves. Nothing names a component: the manifests say everything.
"""
from __future__ import annotations

import dataclasses
import graphlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tasks.core.errors import PluginError

MANIFEST = 'pyproject.toml'
#: Every component's distribution is named `<prefix><name>`; its import package is `<namespace>.<name>`.
DEFAULT_PREFIX = 'embeddenator-'
DEFAULT_NAMESPACE = 'embeddenator'
_NAME = re.compile(r'^[a-z][a-z0-9_]*$')


class WorkspaceError(PluginError):
    """A manifest is missing, malformed or inconsistent; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Extension:
    """One compiled extension module, as declared under `[[tool.embeddenator.extensions]]`."""
    name: str                       # dotted module name, e.g. `<namespace>.<component>._kernels`
    sources: tuple[str, ...]        # workspace-relative `.pyx` files
    include_dirs: tuple[str, ...] = ()
    extra_compile_args: tuple[str, ...] = ()
    extra_link_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    name: str                       # short name: the folder under components/
    dist: str                       # distribution name
    version: str
    root: Path                      # absolute folder of the component
    manifest: Path                  # absolute path of its pyproject.toml
    deps: tuple[str, ...]           # short names of the sibling components it depends on
    paths: tuple[str, ...]          # workspace-relative paths whose changes belong to this component
    extensions: tuple[Extension, ...] = ()
    cython_directives: Mapping[str, object] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)  # the whole [tool.embeddenator] table
    level: int = 0

    @property
    def import_name(self) -> str:
        return f'{DEFAULT_NAMESPACE}.{self.name}'


@dataclass(frozen=True)
class Workspace:
    root: Path
    components: Mapping[str, Component]   # in release order: each after all its dependencies

    def order(self) -> list[str]:
        return list(self.components)

    def closure(self, name: str) -> set[str]:
        """Every component `name` depends on, directly or not."""
        seen: set[str] = set()
        stack = list(self.components[name].deps)
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(self.components[dep].deps)
        return seen

    def dependents(self, name: str) -> set[str]:
        """Every component that depends on `name`, directly or not."""
        return {other for other in self.components if name in self.closure(other)}

    def levels(self) -> dict[str, int]:
        return {name: comp.level for name, comp in self.components.items()}


def release_order(deps: Mapping[str, set[str]]) -> list[str]:
    """Names ordered so each follows all its dependencies (ties alphabetical); CycleError names the cycle."""
    sorter = graphlib.TopologicalSorter({name: sorted(deps[name]) for name in sorted(deps)})
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def compute_levels(deps: Mapping[str, set[str]]) -> dict[str, int]:
    """Level 0 has no dependencies; every other level is one more than its deepest dependency."""
    levels: dict[str, int] = {}
    for name in release_order(deps):
        levels[name] = 1 + max((levels[d] for d in deps[name]), default=-1)
    return levels


def load_workspace(root: Path | str, components_dir: str = 'components',
                   prefix: str = DEFAULT_PREFIX) -> Workspace:
    """Read every `<components_dir>/*/pyproject.toml` under `root` into a Workspace; WorkspaceError if any is wrong."""
    root = Path(root).resolve()
    base = root / components_dir
    if not base.is_dir():
        raise WorkspaceError(f'{base}: no components folder; create {components_dir}/<name>/{MANIFEST}')
    folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(('.', '_')))
    raw = [read_component(folder, root, prefix) for folder in folders]
    if not raw:
        raise WorkspaceError(f'{base}: no component found; each needs {components_dir}/<name>/{MANIFEST}')
    by_dist = {canonicalize_name(c.dist): c for c in raw}
    resolved = {c.name: _resolve_deps(c, by_dist, root, prefix) for c in raw}
    try:
        levels = compute_levels({name: set(c.deps) for name, c in resolved.items()})
    except graphlib.CycleError as err:
        cycle = list(err.args[1])
        raise WorkspaceError(
            f'{_rel(resolved[cycle[0]].manifest, root)}: [project] dependencies form a cycle '
            f'({" -> ".join(cycle)}); remove one of these dependencies') from None
    comps = {name: _with_level(resolved[name], levels[name]) for name in levels}
    return Workspace(root=root, components=comps)


def read_component(folder: Path, root: Path, prefix: str = DEFAULT_PREFIX) -> Component:
    """One component from its manifest; dependencies are left as distribution names until resolved."""
    manifest = folder / MANIFEST
    where = _rel(manifest, root)
    if not manifest.is_file():
        raise WorkspaceError(f'{where}: missing; every folder under components/ needs a {MANIFEST} (PEP 621)')
    try:
        data = tomllib.loads(manifest.read_text(encoding='utf-8'))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise WorkspaceError(f'{where}: not valid TOML ({err}); fix the syntax') from None
    project = data.get('project')
    if not isinstance(project, dict):
        raise WorkspaceError(f'{where}: no [project] table; add one with name, version and dependencies')
    name = folder.name
    if not _NAME.match(name):
        raise WorkspaceError(f'{where}: folder name {name!r} is not a valid component name (lowercase, a-z0-9_)')
    dist = _field(project, 'name', str, where)
    if canonicalize_name(dist) != canonicalize_name(prefix + name):
        raise WorkspaceError(f'{where}: [project] name is {dist!r}; it must be {prefix + name!r} (the folder name)')
    version = _field(project, 'version', str, where)
    try:
        Version(version)
    except InvalidVersion:
        raise WorkspaceError(f'{where}: [project] version {version!r} is not a PEP 440 version (e.g. 0.2.0)') from None
    deps = _field(project, 'dependencies', list, where, default=[])
    tool = data.get('tool', {}).get('embeddenator', {})
    if not isinstance(tool, dict):
        raise WorkspaceError(f'{where}: [tool.embeddenator] must be a table')
    paths = (_rel(folder, root), *_str_list(tool, 'paths', where))
    return Component(name=name, dist=dist, version=version, root=folder.resolve(), manifest=manifest.resolve(),
                     deps=tuple(_requirement(d, where) for d in deps), paths=tuple(dict.fromkeys(paths)),
                     extensions=tuple(_extension(e, where) for e in _field(
                         tool, 'extensions', list, where, default=[], table='tool.embeddenator')),
                     cython_directives=_field(tool, 'cython-directives', dict, where, default={},
                                              table='tool.embeddenator'),
                     settings=tool)


def _resolve_deps(comp: Component, by_dist: Mapping[str, Component], root: Path, prefix: str) -> Component:
    """Keep only sibling dependencies, as short names; a `<prefix>*` name that is not in the workspace fails."""
    siblings = []
    for dist in comp.deps:
        key = canonicalize_name(dist)
        if key in by_dist:
            siblings.append(by_dist[key].name)
        elif key.startswith(canonicalize_name(prefix)):
            raise WorkspaceError(
                f'{_rel(comp.manifest, root)}: [project] dependencies names {dist!r}, which is not a component '
                f'of this workspace; add components/{key[len(prefix):]}/{MANIFEST} or remove the dependency')
    return _replace(comp, deps=tuple(sorted(set(siblings))))


def _with_level(comp: Component, level: int) -> Component:
    return _replace(comp, level=level)


def _replace(comp: Component, **changes) -> Component:
    return dataclasses.replace(comp, **changes)


def _requirement(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise WorkspaceError(f'{where}: [project] dependencies must be strings, got {text!r}')
    try:
        return Requirement(text).name
    except InvalidRequirement as err:
        raise WorkspaceError(f'{where}: [project] dependencies entry {text!r} is not a PEP 508 requirement '
                             f'({err}); write e.g. "embeddenator-obs>=0.2,<0.3"') from None


def _extension(entry: object, where: str) -> Extension:
    table = 'tool.embeddenator.extensions'
    if not isinstance(entry, dict):
        raise WorkspaceError(f'{where}: each [[{table}]] must be a table')
    return Extension(name=_field(entry, 'name', str, where, table=table),
                     sources=tuple(_str_list(entry, 'sources', where, table, required=True)),
                     include_dirs=tuple(_str_list(entry, 'include_dirs', where, table)),
                     extra_compile_args=tuple(_str_list(entry, 'extra_compile_args', where, table)),
                     extra_link_args=tuple(_str_list(entry, 'extra_link_args', where, table)))


_MISSING = object()


def _field(mapping: Mapping, key: str, kind: type, where: str, default=_MISSING, table: str = 'project'):
    """`mapping[key]` checked against `kind`; a missing or mistyped field names the file, table and key."""
    if key not in mapping:
        if default is _MISSING:
            raise WorkspaceError(f'{where}: [{table}] has no {key!r}; add it')
        return default
    value = mapping[key]
    if not isinstance(value, kind):
        raise WorkspaceError(f'{where}: [{table}] {key} must be a {kind.__name__}, got {type(value).__name__} '
                             f'{value!r}')
    return value


def _str_list(mapping: Mapping, key: str, where: str, table: str = 'tool.embeddenator',
              required: bool = False) -> list[str]:
    values = _field(mapping, key, list, where, table=table, **({} if required else {'default': []}))
    if not all(isinstance(v, str) for v in values):
        raise WorkspaceError(f'{where}: [{table}] {key} must be a list of strings')
    return values


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
