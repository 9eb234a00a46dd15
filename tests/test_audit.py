"""`doit audit` on temporary workspaces: an unreviewed site and an out-of-bounds write each fail it, by name."""
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.audit.audit import CHECKS, combine, kernel_tests, write_audit
from tasks.audit.audit_checks import check_fuzz, check_inventory, check_sanitizers, fuzz_modules, memcheck_env
from tasks.core.kernels import kernel_sources
from tasks.audit.memcheck import memcheck_verdict, outside_summary, parse_memcheck_xml
from tasks.audit.sanitize import report_locations, sanitizer_reports
from tasks.core.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]


def copy_kernels(tmp_path: Path) -> Path:
    """The real manifests and kernel sources, copied: what the inventory reads."""
    for manifest in (ROOT / 'components').glob('*/pyproject.toml'):
        target = tmp_path / manifest.relative_to(ROOT)
        target.parent.mkdir(parents=True)
        shutil.copy(manifest, target)
    shutil.copytree(ROOT / 'pyx', tmp_path / 'pyx', ignore=shutil.ignore_patterns('*.c', '*.html'))
    return tmp_path


def test_boundscheck_without_safety_in_a_copy_of_the_kernels_fails_naming_file_and_line(tmp_path):
    root = copy_kernels(tmp_path)
    ws = load_workspace(root)
    [source] = [s for c in ws.components.values() for e in c.extensions for s in e.sources]
    before = check_inventory(str(root))
    kernel = root / source
    text = kernel.read_text(encoding='utf-8')
    added = 'cimport cython\n\n@cython.boundscheck(False)\ndef _unchecked_first(double[::1] a):\n    return a[0]\n'
    kernel.write_text(text.rstrip('\n') + '\n\n\n' + added, encoding='utf-8')
    line = kernel.read_text(encoding='utf-8').splitlines().index('@cython.boundscheck(False)') + 1
    after = check_inventory(str(root))
    assert after['verdict'] == 'fail'
    assert after['sites'] == before['sites'] + 1
    new = [f for f in after['findings'] if f not in before['findings']]
    assert len(new) == 1 and new[0].startswith(f'{source}:{line}: directive without a SAFETY: comment')


def test_the_files_scanned_come_from_the_manifests(tmp_path):
    root = copy_kernels(tmp_path)
    scanned = {p.relative_to(root).as_posix() for p in kernel_sources(load_workspace(root))}
    headers = {p.relative_to(root).as_posix() for p in (root / 'pyx').glob('*.h')}
    assert headers and headers <= scanned
    (root / 'pyx' / 'unused.h').write_text('_mm256_loadu_si256(p);\n')
    assert 'pyx/unused.h' not in {p.relative_to(root).as_posix() for p in kernel_sources(load_workspace(root))}


def test_kernel_heavy_integration_tests_are_those_importing_a_compiled_component(tmp_path):
    ws = load_workspace(ROOT)
    (tmp_path / 'test_a.py').write_text('from embeddenator import retrieval\n')
    (tmp_path / 'test_b.py').write_text('import embeddenator.obs\n')
    (tmp_path / 'test_c.py').write_text('import embeddenator.vsa as v\n')
    assert [p.name for p in kernel_tests(ws, tmp_path)] == ['test_a.py', 'test_c.py']


def test_fuzz_is_not_available_until_a_component_has_a_fuzz_module(tmp_path):
    root = copy_kernels(tmp_path)
    result = check_fuzz(str(root), str(root / 'build'), 1)
    assert (result['verdict'], result['available']) == ('pass', False)
    assert result['summary'].startswith('not available')
    module = root / 'components' / 'io' / 'src' / 'embeddenator' / 'io' / 'fuzz.py'
    module.parent.mkdir(parents=True)
    module.write_text('')
    assert fuzz_modules(load_workspace(root)) == [('embeddenator.io.fuzz', module.resolve())]


def test_memcheck_runs_without_the_sanitizer_environment(monkeypatch):
    monkeypatch.setenv('LD_PRELOAD', '/usr/lib/libasan.so')
    monkeypatch.setenv('ASAN_OPTIONS', 'detect_leaks=0')
    env = memcheck_env()
    assert 'LD_PRELOAD' not in env and 'ASAN_OPTIONS' not in env and env['PYTHONMALLOC'] == 'malloc'


def passing_checks():
    return {
        'inventory': {'verdict': 'pass', 'summary': '3 sites', 'sites': 3, 'reviewed': 3, 'findings': [],
                      'files': [{'file': 'pyx/k.pyx', 'sites': 3, 'reviewed': 3, 'notes': 'nogil 3',
                                 'unreviewed': [], 'invariants': ['p holds n words']}]},
        'sanitizers': {'verdict': 'pass', 'summary': 'no report', 'available': True, 'imported': ['m from s'],
                       'runs': [{'what': 'tests', 'status': 0, 'log': 'l'}], 'reports': []},
        'memcheck': {'verdict': 'pass', 'summary': '0 errors', 'ran': True, 'paths': ['scalar'],
                     'machine_paths': ['scalar', 'avx512'], 'operations': 5, 'suppressed': 0, 'errors': [],
                     'outside': []},
        'fuzz': {'verdict': 'pass', 'summary': 'not available', 'runs': []},
    }


def write_checks(folder: Path, checks: dict) -> dict:
    paths = {}
    for name in CHECKS:
        paths[name] = str(folder / f'{name}.json')
        Path(paths[name]).write_text(json.dumps(checks[name]))
    return paths


def test_report_signs_off_only_without_findings(tmp_path, capsys):
    checks = passing_checks()
    md, posture = tmp_path / 'audit.md', tmp_path / 'security-posture.md'
    assert write_audit(write_checks(tmp_path, checks), str(md), str(posture)) is True
    data = json.loads(md.with_suffix('.json').read_text())
    assert data['verdict'] == 'pass' and data['summary'].startswith('3 unsafe sites, 3 reviewed')
    assert '| `pyx/k.pyx` | 3 | 3 | nogil 3 |' in md.read_text() and '- p holds n words' in posture.read_text()
    checks['inventory'].update(verdict='fail', findings=['pyx/k.pyx:7: nogil without a SAFETY: comment'])
    failed = write_audit(write_checks(tmp_path, checks), str(md), str(posture))
    assert isinstance(failed, TaskFailed) and failed.message.startswith('audit: failed: inventory')
    assert failed.message.endswith(f'see {md}') and '\n' not in failed.message
    assert 'pyx/k.pyx:7: nogil without a SAFETY: comment' in capsys.readouterr().err
    assert not posture.exists() and 'pyx/k.pyx:7' in md.read_text()


def test_any_failing_check_fails_the_audit():
    checks = passing_checks()
    checks['fuzz'].update(verdict='fail', summary='crash')
    data = combine(checks)
    assert data['verdict'] == 'fail' and data['failing'] == ['fuzz']


MEMCHECK_XML = '''<?xml version="1.0"?><valgrindoutput>
<error><kind>InvalidRead</kind><what>Invalid read of size 8</what><stack>
<frame><fn>krn_dot</fn><obj>/w/_kernels.cpython-311-x86_64-linux-gnu.so</obj><file>packed.h</file><line>9</line></frame>
</stack></error>
<error><kind>UninitValue</kind><what>Use of uninitialised value</what><stack>
<frame><fn>Py_INCREF</fn><obj>/lib/libpython3.11.so.1.0</obj></frame></stack>
<auxwhat>created by a heap allocation</auxwhat><stack>
<frame><fn>malloc</fn><obj>/v/vgpreload.so</obj></frame>
<frame><fn>__pyx_f_k</fn><obj>/w/_kernels.cpython-311-x86_64-linux-gnu.so</obj></frame></stack></error>
<error><kind>Leak_DefinitelyLost</kind><xwhat><text>8 bytes definitely lost</text></xwhat><stack>
<frame><fn>malloc</fn><obj>/v/vgpreload.so</obj></frame><frame><fn>gc_alloc</fn><obj>/lib/libpython3.11.so.1.0</obj>
</frame></stack></error>
<suppcounts><pair><count>4</count><name>loader</name></pair></suppcounts>
</valgrindoutput>'''


def test_memcheck_errors_count_against_the_project_through_either_stack():
    result = parse_memcheck_xml(MEMCHECK_XML, ['/x/_kernels.cpython-311-x86_64-linux-gnu.so'])
    assert [e.project for e in result.errors] == [True, True, False]
    assert result.errors[0].frames[0] == 'krn_dot (_kernels.cpython-311-x86_64-linux-gnu.so) packed.h:9'
    ok, summary = memcheck_verdict(result, ['scalar', 'avx2'], ['scalar', 'avx2', 'avx512'])
    assert not ok
    assert summary == ('2 error(s) and 0 definite leak(s) in project code on scalar, avx2 (valgrind cannot run: '
                       'avx512); 1 outside it, 4 suppressed')
    assert outside_summary(result) == ['1 x Leak_DefinitelyLost in gc_alloc (libpython3.11.so.1.0)']


def test_sanitizer_report_locations_name_project_sources():
    report = ('==1==ERROR: AddressSanitizer: heap-buffer-overflow\n'
              '    #0 0x7f in __pyx_f_k_fill /t/pyx/k.pyx:6\n    #1 0x7f in PyObject_Call /usr/src/Objects/call.c:9')
    assert report_locations(report) == ['/t/pyx/k.pyx:6']


def test_reports_written_into_a_run_log_are_found_from_their_first_line(tmp_path):
    (tmp_path / 'pytest-vsa.log').write_text(
        '....                [ 10%]\n'
        "........pyx/sparse.h:105:43: runtime error: index 32767 out of bounds for type 'int8_t [32767]'\n"
        '    #0 0x7f in krn_sparse_dot pyx/sparse.h:105\n')
    (tmp_path / 'pytest-fs.log').write_text('.... [100%]\n4 passed\n')
    [report] = sanitizer_reports(tmp_path)
    assert report.startswith("pyx/sparse.h:105:43: runtime error: index 32767")
    assert report_locations(report) == ['pyx/sparse.h:105']


OOB_MANIFEST = '''[project]
name = "embeddenator-oob"
version = "0.1.0"
dependencies = ["numpy"]

[tool.embeddenator]
paths = ["pyx"]

[tool.embeddenator.cython-directives]
language_level = 3

[[tool.embeddenator.extensions]]
name = "embeddenator.oob._kernels"
sources = ["pyx/oob.pyx"]
include_dirs = ["pyx"]
'''
OOB_KERNEL = '''
def fill(double[::1] a):
    """Writes one element past the end of `a`: the bug the sanitizer build must catch."""
    # SAFETY: deliberately wrong for the test: the loop bound is one too large.
    cdef double *p = &a[0]
    cdef Py_ssize_t i
    for i in range(a.shape[0] + 1):
        p[i] = 1.0
'''


STACK_KERNEL = '''
def fill(double[::1] a):
    """Copies `a` into a 4-element stack array: one past its end for 5 elements (UBSan's bounds check)."""
    cdef double t[4]
    cdef Py_ssize_t i
    for i in range(a.shape[0]):
        t[i] = a[i]
    return t[0]
'''


@pytest.mark.slow
@pytest.mark.parametrize('kernel, report, line', [(OOB_KERNEL, 'heap-buffer-overflow', 7),
                                                  (STACK_KERNEL, "out of bounds for type 'double [4]'", 6)])
def test_out_of_bounds_write_is_caught_by_the_sanitizer_build(tmp_path, kernel, report, line):
    comp = tmp_path / 'components' / 'oob'
    (comp / 'src' / 'embeddenator' / 'oob').mkdir(parents=True)
    (comp / 'tests').mkdir()
    (tmp_path / 'pyx').mkdir()
    (comp / 'pyproject.toml').write_text(OOB_MANIFEST)
    (comp / 'src' / 'embeddenator' / 'oob' / '__init__.py').write_text('from embeddenator.oob._kernels import fill\n')
    (comp / 'tests' / 'test_fill.py').write_text(
        'import numpy as np\nfrom embeddenator.oob import fill\n\n\ndef test_fill():\n    fill(np.zeros(5))\n')
    (tmp_path / 'pyx' / 'oob.pyx').write_text(textwrap.dedent(kernel).lstrip())
    result = check_sanitizers(str(tmp_path), str(tmp_path / 'build'), [], 120)
    assert result['verdict'] == 'fail', result['summary']
    assert result['imported'] and '/build/oob/stage/' in result['imported'][0]
    assert any(report in r for r in result['reports']), result['reports']
    assert any(loc.endswith(f'oob.pyx:{line}') for loc in result['locations']), result['locations']
    assert f'oob.pyx:{line}' in result['summary']
