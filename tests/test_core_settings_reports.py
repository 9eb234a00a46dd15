"""The plugin's shared core on its own: settings from setup.cfg, report rendering and writing, lazy uptodate."""
import json

import pytest
from doit.tools import config_changed

from tasks.core import reporting
from tasks.core.config import Settings, read_settings
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
    (folder / 't.md.j2').write_text('# {{ title }}\n\n{% for x in items %}\n  - {{ x }}\n{% endfor %}\nend\n')
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
        reporting.replace_file(target, 42)              # not text: the write fails after the temporary exists
    assert target.read_text() == 'old' and [p.name for p in tmp_path.iterdir()] == ['r.md']


def test_gate_report_writes_prints_the_summary_and_returns_the_verdict(templates, tmp_path, capsys):
    out = tmp_path / 'g.md'
    data = {'title': 'G', 'items': [], 'summary': '3 of 3 fine', 'verdict': 'pass'}
    assert reporting.write_gate_report('gate', out, 't.md.j2', lambda: data, (ValueError,)) is True
    assert capsys.readouterr().err == 'gate: 3 of 3 fine\n' and out.is_file() and out.with_suffix('.json').is_file()
    assert reporting.write_gate_report('gate', out, 't.md.j2', lambda: {**data, 'verdict': 'fail'},
                                       (ValueError,)) is False


def test_gate_report_turns_an_expected_error_into_one_line_and_no_report(templates, tmp_path, capsys):
    def broken():
        raise ValueError('reports/x.json: missing; run doit x first')

    out = tmp_path / 'g.md'
    assert reporting.write_gate_report('gate', out, 't.md.j2', broken, (ValueError,)) is False
    assert capsys.readouterr().err == 'reports/x.json: missing; run doit x first\n' and not out.exists()
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
