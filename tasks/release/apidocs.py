"""`apidocs:<component>`: the API reference of each component rendered by pdoc into docs/api/<name>/.

The counterpart of a docs.rs build: it imports the package as users will and fails on any warning pdoc emits
(an unresolvable annotation, a broken cross-reference, a module that does not import).
"""
from __future__ import annotations

import sys
from importlib.metadata import version as installed_version
from pathlib import Path

from doit.tools import config_changed

from tasks.core.kernels import extension_inputs
from tasks.core.config import settings, workspace
from tasks.core.errors import failed
from tasks.core.processes import run
from tasks.release.package import importable, release_files, source_env

DOCFORMAT = 'markdown'


def docs_dir(name: str) -> Path:
    return settings().path('docs', 'api', name)


def render_docs(name: str) -> bool:
    """pdoc with warnings turned into errors; its output is shown only when it fails."""
    comp = workspace().components[name]
    out = docs_dir(name)
    cmd = [sys.executable, '-W', 'error', '-m', 'pdoc', '--docformat', DOCFORMAT, '--no-show-source',
           '-o', str(out), comp.import_name]
    done = run(cmd, env=source_env())
    warnings = [line for line in done.output.splitlines() if 'Warning' in line or 'Error' in line]
    if not done.ok or warnings:
        sys.stderr.write(done.output)
        return failed(f'apidocs:{name}: pdoc reported {len(warnings) or "an error"}; fix the docstrings or '
                      f'annotations named above')
    return True


def task_apidocs():
    """render each component's API reference with pdoc into docs/api/<name>/ (fails on warnings)"""
    ws = workspace()
    for name, comp in ws.components.items():
        index = docs_dir(name) / 'index.html'
        yield {
            'name': name,
            'doc': f'pdoc {comp.import_name} -> {index.relative_to(ws.root)}',
            'actions': [(render_docs, [name])],
            'file_dep': [str(f) for f in sorted({*release_files(ws.root, list(comp.paths)),
                                                 *extension_inputs(importable(comp))}) if f.suffix != '.md'],
            'targets': [str(index)],
            'uptodate': [config_changed({'pdoc': installed_version('pdoc'), 'docformat': DOCFORMAT})],
            'clean': True,
        }
