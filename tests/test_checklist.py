"""The publishing checklist's findings, word for word: each names what it checked and, when it fails, the fix."""
from tasks.release.checklist import (KEYWORDS, LICENSE, Finding, check_baseline_isa, check_changelog, check_manifest,
                                     check_readme, check_sibling_requirements, check_sizes)

WHERE = 'a/pyproject.toml'


def rows(findings):
    return [(f.check, f.ok, f.detail) for f in findings]


def test_a_complete_manifest_passes_every_check(tmp_path):
    (tmp_path / 'LICENSE-MIT').write_text('x')
    project = {'name': 'embeddenator-a', 'version': '0.2.0', 'description': 'd', 'readme': 'README.md',
               'license': LICENSE, 'license-files': ['LICENSE-MIT'], 'authors': [{'name': 'x'}],
               'keywords': list(KEYWORDS), 'classifiers': ['c'], 'urls': {'h': 'u'}, 'requires-python': '>=3.11',
               'dependencies': ['embeddenator-io>=0.2,<0.3', 'numpy>=1.26']}
    got = rows(check_manifest(project, WHERE, tmp_path, {'embeddenator-io': '0.2.0'}))
    assert got[:11] == [(f'manifest {key}', True, f'{WHERE}: [project] {key}') for key in (
        'name', 'version', 'description', 'readme', 'license', 'license-files', 'authors', 'keywords', 'classifiers',
        'urls', 'requires-python')]
    assert got[11:] == [
        ('license expression', True, f"{WHERE}: [project] license = 'MIT OR Apache-2.0'"),
        ('license files', True, f'{WHERE}: license-files present'),
        ('keywords', True, f'{WHERE}: keywords ok'),
        ('range for embeddenator-io', True, f"{WHERE}: 'embeddenator-io>=0.2,<0.3'"),
    ]


def test_an_incomplete_manifest_names_each_missing_field_and_its_fix(tmp_path):
    (tmp_path / 'LICENSE-MIT').write_text('x')
    project = {'name': 'embeddenator-a', 'version': '', 'license': 'MIT', 'license-files': ['LICENSE-MIT', 'NOPE'],
               'keywords': ['vsa']}
    got = rows(check_manifest(project, WHERE, tmp_path, {}))
    missing = [(f'manifest {k}', False, f'{WHERE}: [project] {k} missing; add it') for k in (
        'description', 'readme', 'authors', 'classifiers', 'urls', 'requires-python')]
    assert ('manifest version', False, f'{WHERE}: [project] version is empty; fill it in') in got
    assert [r for r in got if r[2].endswith('missing; add it')] == missing
    assert got[11:] == [
        ('license expression', False, f"{WHERE}: [project] license = 'MIT'; write the SPDX expression "
                                      f'"{LICENSE}" (PEP 639)'),
        ('license files', False, f"{WHERE}: license-files ['NOPE'] do not exist"),
        ('keywords', False, f"{WHERE}: keywords lack ['embeddings', 'holographic', 'sparse', 'ternary']"),
    ]


def test_a_manifest_without_license_files_keywords_or_dependencies(tmp_path):
    got = rows(check_manifest({'name': 'x'}, WHERE, tmp_path, {'embeddenator-io': '0.2.0'}))
    assert got[11:] == [
        ('license expression', False, f'{WHERE}: [project] license = None; write the SPDX expression "{LICENSE}" '
                                      '(PEP 639)'),
        ('license files', False, f'{WHERE}: license-files missing; list the license files (PEP 639)'),
        ('keywords', False, f"{WHERE}: keywords lack {sorted(KEYWORDS)}"),
    ]


def test_sibling_requirements_are_ranges_that_admit_the_current_version():
    deps = ['embeddenator-io>=0.3', 'not valid (((', 'embeddenator-obs @ file:///x', 'numpy',
            'embeddenator-io>=0.2,<0.3', 'embeddenator-vsa']
    siblings = {'embeddenator-io': '0.2.0', 'Embeddenator_Obs': '1.4.0', 'embeddenator-vsa': '0.2.0'}
    assert rows(check_sibling_requirements(deps, 'w', siblings)) == [
        ('range for embeddenator-io', False,
         'w: \'embeddenator-io>=0.3\'; write a range that admits 0.2.0, e.g. "embeddenator-io>=0.2.0,<0.3"'),
        ('dependency', False, "w: 'not valid (((' is not a PEP 508 requirement"),
        ('range for embeddenator-obs', False,
         'w: \'embeddenator-obs @ file:///x\'; write a range that admits 1.4.0, e.g. "embeddenator-obs>=1.4.0,<2"'),
        ('range for embeddenator-io', True, "w: 'embeddenator-io>=0.2,<0.3'"),
        ('range for embeddenator-vsa', False,
         'w: \'embeddenator-vsa\'; write a range that admits 0.2.0, e.g. "embeddenator-vsa>=0.2.0,<0.3"'),
    ]


def test_the_next_minor_of_a_stable_version_is_the_next_major():
    [row] = rows(check_sibling_requirements(['embeddenator-io>=2.0,<2.1'], 'w', {'embeddenator-io': '2.3.1'}))
    assert row[2].endswith('e.g. "embeddenator-io>=2.3.1,<3"')


def test_readme_sections_and_the_pip_command():
    text = '# Overview\n## Install\npip install embeddenator-a\n## Usage\n'
    assert rows(check_readme(text, 'R.md', 'embeddenator-a', True)) == [
        ('README overview', True, 'R.md: section "overview"'),
        ('README install with pip', True, 'R.md: section "install with pip"'),
        ('README quick start', True, 'R.md: section "quick start"'),
        ('README API docs', False, 'R.md: section "API docs" missing; add a heading containing \'api\''),
        ('README performance', False, 'R.md: section "performance" missing; add a heading containing '
                                      '\'performance\''),
        ('README license', False, 'R.md: section "license" missing; add a heading containing \'license\''),
        ('README security notes', False, 'R.md: section "security notes" missing; add a heading containing '
                                         '\'security\''),
        ('README pip command', True, 'R.md: shows `pip install embeddenator-a`'),
    ]
    assert rows(check_readme('', 'R.md', 'embeddenator-b', False))[-1] == (
        'README pip command', False, 'R.md: add `pip install embeddenator-b`')


def test_changelog_section_for_the_version():
    assert rows([check_changelog(None, 'c.md', '0.2.0'), check_changelog('## [0.2.0] - x', 'c.md', '0.2.0'),
                 check_changelog('## [0.2.1]', 'c.md', '0.2.0')]) == [
        ('CHANGELOG section', False, 'c.md: missing; run `doit changelog` and commit it'),
        ('CHANGELOG section', True, 'c.md: has 0.2.0'),
        ('CHANGELOG section', False, 'c.md: no section for 0.2.0; run `doit changelog` and commit it'),
    ]


def test_baseline_isa_names_each_cpu_specific_flag_once():
    assert rows([check_baseline_isa(['-O3', '-mavx2', '-march=native', '-mavx2'], 'm'),
                 check_baseline_isa(['-O3'], 'm')]) == [
        ('baseline ISA', False, 'm: -march=native -mavx2 would make the whole extension CPU-specific; mark wide '
                                'functions with target attributes instead'),
        ('baseline ISA', True, 'm: no -march=native or global -mavx*: runtime dispatch decides'),
    ]


def test_sizes_must_stay_below_the_limit():
    assert rows(check_sizes({'a.whl': 10, 'b.whl': 11}, 11)) == [
        ('size of a.whl', True, 'a.whl: 10 bytes (limit 11)'), ('size of b.whl', False, 'b.whl: 11 bytes (limit 11)')]


def test_a_finding_is_a_plain_dict_for_the_report():
    assert Finding('c', True, 'd').as_dict() == {'check': 'c', 'ok': True, 'detail': 'd'}
