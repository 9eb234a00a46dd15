"""The build task's inputs come from scanning the sources, and its settings from the manifest."""
from pathlib import Path

from tasks.core.kernels import compiler_config, directives, extension_target, scan_deps
from tasks.core.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]


def test_scan_follows_cimports_includes_and_headers_transitively(tmp_path):
    (tmp_path / 'inc').mkdir()
    (tmp_path / 'main.pyx').write_text(
        'from decl cimport f\ncimport pkg.types\ninclude "extra.pxi"\nimport numpy\nfrom libc.stdint cimport uint8_t\n')
    (tmp_path / 'decl.pxd').write_text('cdef extern from "a.h" nogil:\n    int f()\n')
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'types.pxd').write_text('ctypedef int T\n')
    (tmp_path / 'extra.pxi').write_text('# nothing\n')
    (tmp_path / 'inc' / 'a.h').write_text('#include "b.h"\n#include <stdint.h>\n')
    (tmp_path / 'inc' / 'b.h').write_text('#include "a.h"\n')  # include guards make cycles legal
    found = scan_deps(tmp_path / 'main.pyx', [tmp_path / 'inc'])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        'decl.pxd', 'extra.pxi', 'inc/a.h', 'inc/b.h', 'pkg/types.pxd']


def test_scan_of_the_real_kernels_finds_every_header_they_use():
    ws = load_workspace(ROOT)
    ext = ws.components['vsa'].extensions[0]
    found = {p.name for p in scan_deps(ROOT / ext.sources[0], [ROOT / d for d in ext.include_dirs])}
    headers = {p.name for p in (ROOT / 'pyx').glob('*.h')}
    assert headers <= found, f'headers not reached from the kernels: {headers - found}'


def test_extension_lands_in_place_in_the_src_layout():
    comp = load_workspace(ROOT).components['vsa']
    target = extension_target(comp, comp.extensions[0])
    assert target.parent == comp.root / 'src' / 'embeddenator' / 'vsa'
    assert target.name.startswith('_kernels.') and target.suffix in {'.so', '.pyd'}


def test_debug_switch_turns_checks_back_on(monkeypatch):
    comp = load_workspace(ROOT).components['vsa']
    monkeypatch.delenv('EMBEDDENATOR_DEBUG', raising=False)
    assert directives(comp)['boundscheck'] is False
    release = compiler_config(comp)
    monkeypatch.setenv('EMBEDDENATOR_DEBUG', '1')
    assert directives(comp)['boundscheck'] is True
    assert compiler_config(comp) != release  # so `doit build` recompiles when the switch flips


def test_no_global_wide_instruction_flags():
    for comp in load_workspace(ROOT).components.values():
        for ext in comp.extensions:
            flags = ' '.join(ext.extra_compile_args)
            assert '-mavx' not in flags and '-march=native' not in flags
