"""The sanitizer build: the kernels compiled again with AddressSanitizer and UndefinedBehaviorSanitizer.

The build goes to its own folder (`build/sanitizers/<component>/`) and its module into a staging copy of the
component's package, never over the normal in-place build. The tests then run with the staging folder first on
PYTHONPATH, libasan preloaded (CPython itself is not instrumented) and every report written to log files, which
survive a crash and pytest's output capture. The run proves which module it imported.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from tasks.core.errors import PluginError
from tasks.core.kernels import compile_extension, directives
from tasks.core.processes import run
from tasks.core.workspace import Component
from tasks.core import heartbeat

SANITIZE_FLAGS = ('-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer',
                  '-g', '-O1')
ASAN_OPTIONS = 'detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86'
UBSAN_OPTIONS = 'halt_on_error=1:print_stacktrace=1'
# What a sanitizer writes at the top of a report.
REPORT_MARKERS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: UndefinedBehaviorSanitizer')
# pytest's progress characters, which precede a report written in the middle of a line of them
_PROGRESS = re.compile(r'^[.sxXFE]+(?=[^./\s])')
GUARD_ENV = 'EMBEDDENATOR_AUDIT_STAGE'
RECORD_ENV = 'EMBEDDENATOR_AUDIT_IMPORTED'
SANITIZER_VARIABLES = ('LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', GUARD_ENV, RECORD_ENV)


class SanitizeError(PluginError):
    """The sanitizer build or run cannot proceed; the message says what is missing and how to install it."""


@dataclass(frozen=True)
class Staged:
    stage: Path            # the folder put first on PYTHONPATH
    modules: tuple[str, ...]   # dotted names of the sanitized extension modules


def runtime_library(name: str = 'libasan.so', cc: str | None = None) -> Path | None:
    """The compiler's copy of a sanitizer runtime, or None when the compiler does not ship it."""
    cc = (cc or sysconfig.get_config_var('CC') or 'gcc').split()[0]
    try:
        out = subprocess.run([cc, f'-print-file-name={name}'], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(out.stdout.strip())
    return path.resolve() if path.is_absolute() and path.exists() else None


@contextlib.contextmanager
def line_directives():
    """Cython emits `#line` directives while active, so sanitizer stacks name the .pyx file and line."""
    from Cython.Compiler import Options
    before = Options.default_options.get('emit_linenums', False)
    Options.default_options['emit_linenums'] = True
    try:
        yield
    finally:
        Options.default_options['emit_linenums'] = before


def stage_component(root: Path, comp: Component, build_dir: Path) -> Staged:
    """Compile `comp`'s extensions with the sanitizers into `build_dir` and stage them beside copies of the
    package's Python files under `build_dir/stage`; returns what to put on PYTHONPATH."""
    stage = build_dir / 'stage'
    shutil.rmtree(stage, ignore_errors=True)
    package = comp.root / 'src' / Path(*comp.import_name.split('.'))
    shutil.copytree(package, stage / package.relative_to(comp.root / 'src'),
                    ignore=shutil.ignore_patterns('*.so', '*.pyd', '__pycache__', '*.partial'))
    suffix = sysconfig.get_config_var('EXT_SUFFIX')
    with line_directives():
        for ext in comp.extensions:
            target = stage.joinpath(*ext.name.split('.')).with_name(ext.name.rsplit('.', 1)[-1] + suffix)
            compile_extension(str(root), str(comp.root), ext, directives(comp), str(build_dir / 'build'),
                              str(target), extra_cflags=SANITIZE_FLAGS, extra_ldflags=SANITIZE_FLAGS[:1])
    return Staged(stage, tuple(e.name for e in comp.extensions))


def stage_isolated(root: Path, comp: Component, build_dir: Path, timeout: float = 900) -> Staged:
    """`stage_component` in a child process: Cython caches each source's build settings per process (the
    first call's compiler flags stick to the file), so compiling here would leak the sanitizer flags into a
    later normal build run by the same doit process."""
    cmd = [sys.executable, '-m', 'tasks.audit.sanitize', str(root), comp.name, str(build_dir)]
    done = run(cmd, timeout=timeout, beat=('audit', f'compiling the sanitizer build of {comp.name}'))
    if not done.ok:
        how = f'timed out after {timeout:g} s' if done.timed_out else f'exit {done.returncode}'
        raise SanitizeError(f'sanitizer build of {comp.name} failed ({how}):\n{done.tail(15)}')
    return Staged(build_dir / 'stage', tuple(e.name for e in comp.extensions))


def sanitizer_env(staged: Sequence[Staged], runtime: Path, logs: Path, extra_path: Iterable[Path] = ()) -> dict:
    """The environment of a sanitized run: staging folders first, libasan preloaded, reports to `logs`."""
    logs.mkdir(parents=True, exist_ok=True)
    path = [str(s.stage) for s in staged] + [str(p) for p in extra_path]
    if os.environ.get('PYTHONPATH'):
        path.append(os.environ['PYTHONPATH'])
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), LD_PRELOAD=str(runtime), PYTHONMALLOC='malloc',
                ASAN_OPTIONS=f'{ASAN_OPTIONS}:log_path={logs / "asan"}',
                UBSAN_OPTIONS=f'{UBSAN_OPTIONS}:log_path={logs / "ubsan"}',
                **{GUARD_ENV: os.pathsep.join(f'{m}={s.stage}' for s in staged for m in s.modules),
                   RECORD_ENV: str(logs / 'imported.txt')})


def sanitizer_reports(logs: Path, limit: int = 40) -> list[str]:
    """The reports the sanitizers wrote under `logs`, each cut to its first `limit` lines: ASan's own log files,
    and the runs' logs from the first report line on (UBSan writes to stderr whatever its log_path says)."""
    out = []
    for log in sorted(logs.glob('*san.*')) + sorted(logs.glob('*.log')):
        lines = log.read_text(encoding='utf-8', errors='replace').strip().splitlines()
        first = next((i for i, line in enumerate(lines) if any(m in line for m in REPORT_MARKERS)), None)
        if first is not None:
            report = lines[0 if log.suffix != '.log' else first:][:limit]
            report[0] = _PROGRESS.sub('', report[0])
            out.append('\n'.join(report))
    return out


def report_locations(report: str, roots: Iterable[str] = ('.pyx', '.pxd', '.pxi', '.h', '.c')) -> list[str]:
    """`file:line` of the report's stack frames in project sources (Cython line directives name the .pyx)."""
    found = []
    for path, line in re.findall(r'(\S+?):(\d+)(?::\d+)?', report):
        if path.endswith(tuple(roots)) and '/usr/' not in path and f'{path}:{line}' not in found:
            found.append(f'{path}:{line}')
    return found


def run_logged(cmd: list[str], env: dict, log: Path, timeout: float) -> int:
    """Run `cmd` with output to `log`; returns the exit status (124 on timeout, like coreutils' timeout)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f'audit: {" ".join(cmd[:4])} ...', file=sys.stderr, flush=True)
    with open(log, 'w', encoding='utf-8') as out:
        try:
            return heartbeat.run(cmd, 'audit', f'running {Path(cmd[0]).name} (log: {log})', env=env, stdout=out,
                                 stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write(f'\ntimed out after {timeout:.0f} s\n')
            return 124


def main(argv: Sequence[str]) -> int:
    """`python -m tasks.audit.sanitize <workspace root> <component> <build dir>`: the sanitizer build alone."""
    from tasks.core.workspace import load_workspace
    root, name, build_dir = argv
    comp = load_workspace(root).components[name]
    stage_component(Path(root), comp, Path(build_dir))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
