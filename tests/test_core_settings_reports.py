"""The plugin's shared core on its own: settings, files, errors, report rendering and writing, lazy uptodate."""
import json
import os

import pytest
from doit.exceptions import TaskFailed
from doit.tools import config_changed

from tasks.core import files, reporting
from tasks.core.config import Settings, read_settings
from tasks.core.errors import PluginError, expected_failures, failed
from tasks.core.uptodate import lazy_config_changed


# ---------------------------------------------------------------------------------------------- settings

def test_settings_default_without_a_setup_cfg(tmp_path):
    cfg = read_settings(tmp_path)
    assert (cfg.root, cfg.components, cfg.reports, cfg.build, cfg.raw) == (
        tmp_path.resolve(), 'components', 'reports', 'build', ())
    assert cfg.get('anything') is None and cfg.get('anything', 'fallback') == 'fallback'
    assert cfg.path('reports', 'tests', 'x.md') == tmp_path.resolve() / 'reports' / 'tests' / 'x.md'


def test_settings_read_the_embeddenator_section_only(tmp_path):
    (tmp_path / 'setup.cfg').write_text('[metadata]\nname = x\n\n[embeddenator]\ncomponents = pkgs\nreports = out\n'
                                        'build = scratch\ntag-pattern = v{version} ✓\n', encoding='utf-8')
    cfg = read_settings(str(tmp_path))
    assert (cfg.components, cfg.reports, cfg.build) == ('pkgs', 'out', 'scratch')
    assert cfg.raw == (('build', 'scratch'), ('components', 'pkgs'), ('reports', 'out'),
                       ('tag-pattern', 'v{version} ✓'))
    assert cfg.get('tag-pattern') == 'v{version} ✓' and cfg.get('name') is None
    assert cfg == Settings(tmp_path.resolve(), 'pkgs', 'out', 'scratch', cfg.raw)


def test_settings_keep_their_defaults_for_keys_not_given(tmp_path):
    (tmp_path / 'setup.cfg').write_text('[embeddenator]\nreports = out\n')
    cfg = read_settings(tmp_path)
    assert (cfg.components, cfg.reports, cfg.build) == ('components', 'out', 'build')


# ----------------------------------------------------------------------------------------------- reports

@pytest.fixture
def templates(tmp_path, monkeypatch):
    folder = tmp_path / 'templates'
    folder.mkdir()
    (folder / 't.md.j2').write_text('# {{ title }}\n\n  {% for x in items %}\n  - {{ x }}\n  {% endfor %}\nend\n')
    monkeypatch.setattr(reporting, 'TEMPLATES', folder)
    return folder


def test_render_trims_block_lines_keeps_the_final_newline_and_does_not_escape(templates):
    assert reporting.render('t.md.j2', {'title': '<b>&', 'items': [1, 2]}) == '# <b>&\n\n  - 1\n  - 2\nend\n'


def test_render_refuses_a_missing_variable(templates):
    import jinja2
    with pytest.raises(jinja2.UndefinedError):
        reporting.render('t.md.j2', {'items': []})


def test_the_templates_folder_is_the_workspace_one():
    assert (reporting.TEMPLATES / 'audit.md.j2').is_file()


def test_write_report_writes_markdown_and_its_json_twin(templates, tmp_path):
    out = tmp_path / 'reports' / 'deep' / 'r.md'
    reporting.write_report(out, 't.md.j2', {'title': 'T', 'items': ['é'], 'b': 1, 'a': 2})
    assert out.read_text(encoding='utf-8') == '# T\n\n  - é\nend\n'
    text = out.with_suffix('.json').read_text(encoding='utf-8')
    assert text.endswith('}\n') and text.index('"a"') < text.index('"b"') and '\n  "a": 2' in text
    assert json.loads(text)['items'] == ['é']
    assert sorted(p.name for p in out.parent.iterdir()) == ['r.json', 'r.md']     # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / 'r.md'
    target.write_text('old')
    with pytest.raises(TypeError):
        files.replace_file(target, 42)                  # neither text nor bytes: fails after the temporary exists
    assert target.read_text() == 'old' and [p.name for p in tmp_path.iterdir()] == ['r.md']


def test_the_temporary_is_a_named_partial_file_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def replace(src, dst):
        seen.append((os.path.dirname(src), os.path.basename(src), open(src, 'rb').read()))
        real(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    files.replace_file(tmp_path / 'sub' / 'r.json', 'é')
    [(folder, name, data)] = seen
    assert folder == str(tmp_path / 'sub') and name.startswith('r.json') and name.endswith('.partial')
    assert data == 'é'.encode('utf-8') and (tmp_path / 'sub' / 'r.json').read_bytes() == data


def test_bytes_are_written_as_they_are_and_a_copy_keeps_the_mode(tmp_path):
    source = tmp_path / 'm.so'
    files.replace_file(source, b'\x00\xff')
    os.chmod(source, 0o751)
    files.replace_copy(source, tmp_path / 'out' / 'm.so')
    assert (tmp_path / 'out' / 'm.so').read_bytes() == b'\x00\xff'
    assert (tmp_path / 'out' / 'm.so').stat().st_mode & 0o777 == 0o751


def test_a_written_file_gets_the_mode_the_umask_allows(tmp_path):
    before = os.umask(0o026)
    try:
        assert files.file_mode() == 0o640 and os.umask(0o026) == 0o026      # the umask itself is left as it was
        files.replace_file(tmp_path / 'r.md', 'x')
    finally:
        os.umask(before)
    assert (tmp_path / 'r.md').stat().st_mode & 0o777 == 0o640


def test_source_files_skip_generated_folders_and_files(tmp_path):
    for name in ('a.py', 'b.md', 'c.so', 'pkg/d.pyx', 'pkg/__pycache__/e.pyc', 'build/f.py', 'x.egg-info/g.txt'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('')
    found = files.source_files([tmp_path / 'b.md', tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ['b.md', 'a.py', 'pkg/d.pyx']
    assert files.rel(tmp_path / 'pkg' / 'd.pyx', tmp_path) == 'pkg/d.pyx'
    assert files.rel('/elsewhere/x', tmp_path) == '/elsewhere/x'


def test_what_cython_writes_beside_a_pyx_is_not_a_source(tmp_path):
    for name in ('k.pyx', 'k.c', 'k.cpp', 'k.html', 'other.c'):
        (tmp_path / name).write_text('')
    found = files.source_files([tmp_path])
    assert [p.name for p in found] == ['k.pyx', 'other.c']


def test_remove_tree_removes_a_folder_and_ignores_a_missing_one(tmp_path):
    (tmp_path / 'scratch' / 'deep').mkdir(parents=True)
    files.remove_tree(str(tmp_path / 'scratch'))
    files.remove_tree(str(tmp_path / 'scratch'))
    assert not (tmp_path / 'scratch').exists()


def test_component_files_are_those_under_its_paths(tmp_path):
    from tasks.core.workspace import load_workspace
    folder = tmp_path / 'components' / 'a'
    (folder / 'src').mkdir(parents=True)
    (folder / 'pyproject.toml').write_text('[project]\nname = "embeddenator-a"\nversion = "0.1"\n'
                                           '[tool.embeddenator]\npaths = ["pyx"]\n')
    (folder / 'src' / 'm.py').write_text('')
    (tmp_path / 'pyx').mkdir()
    (tmp_path / 'pyx' / 'k.pyx').write_text('')
    ws = load_workspace(tmp_path)
    found = files.component_files(ws, ws.components['a'])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        'components/a/pyproject.toml', 'components/a/src/m.py', 'pyx/k.pyx']


# ------------------------------------------------------------------------------------------------- junit

def test_junit_counts_and_cases_with_attributes_missing(tmp_path):
    from tasks.core import junit
    path = tmp_path / 'j.xml'
    path.write_text('<testsuites><testsuite tests="3" failures="1" time="1.23456">'
                    '<testcase classname="tests.test_a" name="t1" time="0.5"><failure/></testcase>'
                    '<testcase name="t2"><error/></testcase>'
                    '<testcase classname="x"><skipped/></testcase>'
                    '</testsuite><testsuite tests="1" skipped="1" errors="2"/></testsuites>')
    assert junit.counts(path) == junit.Counts(tests=4, failed=3, skipped=1, seconds=1.235)
    assert junit.cases(path) == [('test_a', 't1', 'failed', 0.5), ('?', 't2', 'failed', 0.0),
                                 ('x', '?', 'skipped', 0.0)]
    for read in (junit.counts, junit.cases):
        with pytest.raises(junit.JUnitError, match=r'cannot read the JUnit report .*; re-run the task that writes it$'):
            read(tmp_path / 'missing.xml')


# ------------------------------------------------------------------------------------------------ errors

def test_an_expected_failure_is_one_line_for_doit():
    result = failed('  a.toml: [x] y: add it\n')
    assert isinstance(result, TaskFailed) and result.message == 'a.toml: [x] y: add it'

    @expected_failures
    def action(fail):
        """Doc."""
        if fail == 'plugin':
            raise PluginError('f: g: h')
        if fail == 'other':
            raise KeyError('k')
        return True

    assert action('no') is True and action.__doc__ == 'Doc.' and action.__name__ == 'action'
    assert action('plugin').message == 'f: g: h'
    with pytest.raises(KeyError):
        action('other')


def test_gate_report_writes_prints_the_summary_and_returns_the_verdict(templates, tmp_path, capsys):
    out = tmp_path / 'g.md'
    data = {'title': 'G', 'items': [], 'summary': '3 of 3 fine', 'verdict': 'pass'}
    assert reporting.write_gate_report('gate', out, 't.md.j2', lambda: data, (ValueError,)) is True
    assert capsys.readouterr().err == 'gate: 3 of 3 fine\n' and out.is_file() and out.with_suffix('.json').is_file()
    failed = reporting.write_gate_report('gate', out, 't.md.j2', lambda: {**data, 'verdict': 'fail'}, (ValueError,))
    assert isinstance(failed, TaskFailed) and failed.message == f'gate: 3 of 3 fine; see {out}'


def test_gate_report_turns_an_expected_error_into_one_line_and_no_report(templates, tmp_path, capsys):
    def broken():
        raise ValueError('reports/x.json: missing; run doit x first')

    out = tmp_path / 'g.md'
    failed = reporting.write_gate_report('gate', out, 't.md.j2', broken, (ValueError,))
    assert isinstance(failed, TaskFailed) and failed.message == 'reports/x.json: missing; run doit x first'
    assert capsys.readouterr().err == '' and not out.exists()
    with pytest.raises(KeyError):
        reporting.write_gate_report('gate', out, 't.md.j2', lambda: {}['x'], (ValueError,))


# ---------------------------------------------------------------------------------------------- uptodate

def test_lazy_config_changed_computes_only_when_checked_and_matches_config_changed():
    calls = []

    def versions():
        calls.append(1)
        return {'git': 'abc', 'n': 2}

    lazy = lazy_config_changed(versions)
    assert calls == [] and repr(lazy) == "lazy_config_changed('versions')"
    assert lazy._calc_digest() == config_changed({'git': 'abc', 'n': 2})._calc_digest() and calls == [1]
    assert lazy.encoder is None and lazy.config == {'git': 'abc', 'n': 2}
    assert lazy_config_changed(versions, json.JSONEncoder).encoder is json.JSONEncoder


def test_lazy_config_changed_names_a_callable_without_a_name():
    class Compute:
        def __call__(self):
            return {}

        def __repr__(self):
            return 'Compute()'

    assert repr(lazy_config_changed(Compute())) == 'lazy_config_changed(Compute())'
