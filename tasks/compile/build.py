"""`build`: compile each component's Cython extensions in place, from what its manifest declares.

The inputs are the sources and every local file they include (tasks/core/kernels.py scans them), the manifest and
the build definition (tasks/core/kernel_build.py, which the wheel build uses too); compiler, flags and Cython
version go in `uptodate`.
"""
from __future__ import annotations

from doit.exceptions import TaskFailed
from doit.task import clean_targets
from doit.tools import config_changed

from tasks.core.config import settings, workspace
from tasks.core.files import remove_tree
from tasks.core.kernels import (build_definition, compile_extension, compiler_config, directives, extension_target,
                                kernel_stamp, missing_sources, scan_deps, write_stamp)


def _missing(problems: list[str]) -> TaskFailed:
    """The action of a build whose sources are missing: one line (the first problem, and how many more)."""
    more = f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''
    return TaskFailed(f'build: {problems[0]}{more}')


def task_build():
    """compile the Cython kernels (runtime SIMD dispatch) in place into their components"""
    ws, cfg = workspace(), settings()
    for comp in ws.components.values():
        if not comp.extensions:
            continue
        build_dir = cfg.path(cfg.build, comp.name)
        actions, deps, problems = [], set(), []
        for ext in comp.extensions:
            search = [ws.root / d for d in ext.include_dirs]
            problems += missing_sources(ws.root, comp, ext)
            for src in ext.sources:
                if (ws.root / src).is_file():
                    deps.add(ws.root / src)
                deps.update(scan_deps(ws.root / src, search))
            actions.append((compile_extension, [str(ws.root), str(comp.root), ext, directives(comp),
                                                str(build_dir), str(extension_target(comp, ext))]))
        yield {
            'name': comp.name,
            'doc': f'compile the extensions of {comp.dist} ({", ".join(e.name for e in comp.extensions)})',
            # a missing source fails the build with one line, and leaves the rest of the graph loadable
            'actions': [(_missing, [problems])] if problems else [
                *actions, (write_stamp, [str(kernel_stamp(comp)), sorted(str(d) for d in deps),
                                         compiler_config(comp)])],
            'file_dep': sorted(str(d) for d in deps | set(build_definition())) + [str(comp.manifest)],
            # the record of this build is what other tasks depend on (tasks.core.kernels.extension_inputs)
            'targets': [str(extension_target(comp, e)) for e in comp.extensions] + [str(kernel_stamp(comp))],
            'uptodate': [config_changed(compiler_config(comp))],
            'clean': [clean_targets, (remove_tree, [str(build_dir)])],
        }
