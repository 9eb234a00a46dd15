"""Plugin settings (the `[embeddenator]` section of setup.cfg) and the workspace they describe, loaded once."""
from __future__ import annotations

import configparser
import functools
from dataclasses import dataclass
from pathlib import Path

from tasks.core.workspace import Workspace, WorkspaceError, load_workspace

SECTION = 'embeddenator'


@dataclass(frozen=True)
class Settings:
    root: Path
    components: str = 'components'      # folder holding one sub-folder per component
    reports: str = 'reports'            # where the tasks write what they find
    build: str = 'build'                # scratch space for compilers (git-ignored)
    raw: tuple[tuple[str, str], ...] = ()   # every key of the section, for stages that add their own

    def get(self, key: str, default: str | None = None) -> str | None:
        return dict(self.raw).get(key, default)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


def read_settings(root: Path | str) -> Settings:
    """The `[embeddenator]` section of `<root>/setup.cfg`; every key has a default, so the file is optional."""
    root = Path(root).resolve()
    parser = configparser.ConfigParser()
    parser.read(root / 'setup.cfg', encoding='utf-8')
    section = dict(parser[SECTION]) if parser.has_section(SECTION) else {}
    known = {k: section[k] for k in ('components', 'reports', 'build') if k in section}
    return Settings(root=root, raw=tuple(sorted(section.items())), **known)


@functools.cache
def settings() -> Settings:
    """Settings of the workspace doit runs in (doit makes the dodo file's folder the working directory)."""
    return read_settings(Path.cwd())


@functools.cache
def workspace() -> Workspace:
    """The workspace, loaded once per run; a manifest error stops doit with a one-line message."""
    from doit.exceptions import InvalidDodoFile
    try:
        return load_workspace(settings().root, settings().components)
    except WorkspaceError as err:
        raise InvalidDodoFile(str(err)) from None
