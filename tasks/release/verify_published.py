"""`verify_published`: the integration suite against the packages as the index serves them, no workspace paths.

A fresh venv gets the third-party requirements (and the test tools) from the default index, then every component
from the configured index alone; the suite runs from a copy outside the component folders, in isolated mode, so
an import can only find the installed distributions.
"""
from __future__ import annotations

import configparser
import shutil
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from tasks.core import processes
from tasks.core.config import settings, workspace
from tasks.core.errors import PluginError, failed
from tasks.release import verify
from tasks.release.redact import scrub
from tasks.release.registry import RegistryError, open_registry, served_files

TEST_TOOLS = ('pytest', 'hypothesis')   # what the integration suite imports besides the components


def test_tool_requirements(setup_cfg: Path) -> list[str]:
    """The pinned ranges of TEST_TOOLS from the dev extra of setup.cfg (one place for versions)."""
    parser = configparser.ConfigParser()
    parser.read(setup_cfg, encoding='utf-8')
    lines = [line for line in parser.get('options.extras_require', 'dev', fallback='').splitlines() if line.strip()]
    return [line.strip() for line in lines if Requirement(line.strip()).name in TEST_TOOLS] or list(TEST_TOOLS)


def manifest_requirements() -> list[str]:
    ws = workspace()
    reqs = [r for c in ws.components.values()
            for r in tomllib.loads(c.manifest.read_text(encoding='utf-8'))['project'].get('dependencies', [])]
    return verify.third_party(reqs, [c.dist for c in ws.components.values()])


def verify_published():
    ws, cfg = workspace(), settings()
    folder = cfg.path(cfg.build, 'verify-published')
    log = cfg.path(cfg.reports, 'publishing', 'verify-published.log')
    junit = cfg.path(cfg.reports, 'publishing', 'verify-published.xml')
    shutil.rmtree(folder, ignore_errors=True)
    log.unlink(missing_ok=True)
    try:
        python = verify.create_venv(folder / 'venv')
        third = cfg.get('third-party-index-url', '')
        verify.pip_install(python, [*(['--index-url', third] if third else []), *manifest_requirements(),
                                    *test_tool_requirements(ws.root / 'setup.cfg')], log)
        with open_registry(cfg) as registry:   # reads only: a public index needs no login, a private one its login
            missing = [f'{c.dist} {c.version}' for c in ws.components.values() if not any(
                f'-{c.version}' in name for name in served_files(registry, c.dist))]
            if missing:
                raise RegistryError(f'{registry.simple_url}: {", ".join(missing)} not on the index; run '
                                    f'`doit publish` first')
            verify.install_from_index(python, registry, [f'{c.dist}=={c.version}' for c in ws.components.values()],
                                      log)
        for comp in ws.components.values():
            verify.smoke(python, comp.import_name, [e.name for e in comp.extensions], {comp.dist: comp.version},
                         [], log, ws.root / cfg.components)
    except PluginError as err:
        return failed(scrub(f'verify_published: {err}'))
    suite = folder / 'integration'
    shutil.copytree(ws.root / 'tests' / 'integration', suite, ignore=shutil.ignore_patterns('__pycache__'))
    (folder / 'pytest.ini').write_text('[pytest]\n', encoding='utf-8')   # not the workspace's settings
    junit.parent.mkdir(parents=True, exist_ok=True)
    done = processes.run([python, '-I', '-m', 'pytest', suite, '-q', '-p', 'no:cacheprovider', f'--junitxml={junit}',
                          '-c', folder / 'pytest.ini'], log, redact=scrub,
                         beat=('verify_published', 'running the integration suite'), cwd=folder)
    summary = done.tail()
    if not done.ok:
        return failed(f'verify_published: {summary} (installed from the index); see {log}')
    print(f'verify_published: {summary} (installed from the index; log {log})', file=sys.stderr)
    return True


def task_verify_published():
    """install every component from the index alone into a fresh venv and run the integration suite on it"""
    cfg = settings()
    return {
        'actions': [verify_published],
        'targets': [str(cfg.path(cfg.reports, 'publishing', 'verify-published.xml'))],
        'uptodate': [False],   # it checks the index, which doit cannot see
        'clean': True,
    }
