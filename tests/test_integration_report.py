import json

from pathlib import Path

from doit.exceptions import TaskFailed

from tasks.test.integration_report import area_titles, read_cases, summarize, write_integration_report

SUITE = Path(__file__).resolve().parent / 'integration'
TITLES = {'test_vsa_retrieval': 'VSA to retrieval', 'test_retrieval_fs': 'retrieval to fs',
          'test_io_obs': 'io and obs'}

JUNIT = '''<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.integration.test_vsa_retrieval" name="test_a" time="0.5"/>
<testcase classname="tests.integration.test_retrieval_fs" name="test_b" time="0.25">
  <failure message="boom">trace</failure></testcase>
<testcase classname="tests.integration.test_retrieval_fs" name="test_c" time="0.25"><skipped/></testcase>
<testcase classname="tests.integration.test_brand_new" name="test_d" time="1"/>
</testsuite></testsuites>'''


def test_cases_are_read_per_module_with_outcomes(tmp_path):
    (tmp_path / 'i.xml').write_text(JUNIT)
    assert read_cases(tmp_path / 'i.xml') == [('test_vsa_retrieval', 'test_a', 'passed', 0.5),
                                              ('test_retrieval_fs', 'test_b', 'failed', 0.25),
                                              ('test_retrieval_fs', 'test_c', 'skipped', 0.25),
                                              ('test_brand_new', 'test_d', 'passed', 1.0)]


def test_a_failure_fails_its_area_and_the_verdict_and_unknown_modules_still_show(tmp_path):
    (tmp_path / 'i.xml').write_text(JUNIT)
    data = summarize(read_cases(tmp_path / 'i.xml'), TITLES)
    rows = {a['module']: a for a in data['areas']}
    assert data['verdict'] == 'fail' and 'retrieval to fs' in data['summary']
    assert rows['test_retrieval_fs']['failures'] == ['test_b'] and rows['test_vsa_retrieval']['verdict'] == 'pass'
    assert rows['test_brand_new']['title'] == 'test_brand_new'
    assert rows['test_io_obs']['verdict'] == 'fail'           # an area that ran no test does not pass
    assert [a['module'] for a in data['areas']][:len(TITLES)] == list(TITLES)


def test_all_areas_passing_is_a_pass():
    cases = [(module, 'test_x', 'passed', 0.1) for module in TITLES]
    assert summarize(cases, TITLES)['verdict'] == 'pass'


def test_areas_are_the_suites_modules_titled_by_their_docstrings(tmp_path):
    (tmp_path / 'test_b.py').write_text('"""Second area: what it proves.\n\nMore."""\n')
    (tmp_path / 'test_a.py').write_text('def test_x():\n    pass\n')
    (tmp_path / 'helpers.py').write_text('"""Not a test module."""\n')
    assert area_titles(tmp_path) == {'test_a': 'test_a', 'test_b': 'Second area: what it proves'}


def test_every_module_of_the_real_suite_has_a_title():
    titles = area_titles(SUITE)
    assert titles and all(title != module for module, title in titles.items())


def test_report_and_json_twin_are_written(tmp_path):
    (tmp_path / 'i.xml').write_text(JUNIT)
    (tmp_path / 'suite').mkdir()
    (tmp_path / 'suite' / 'test_retrieval_fs.py').write_text('"""retrieval to fs."""\n')
    failed = write_integration_report(str(tmp_path / 'suite'), str(tmp_path / 'i.xml'),
                                      str(tmp_path / 'integration.md'))
    assert isinstance(failed, TaskFailed) and failed.message.endswith(f'see {tmp_path / "integration.md"}')
    doc = json.loads((tmp_path / 'integration.json').read_text())
    assert doc['verdict'] == 'fail' and doc['summary']
    text = (tmp_path / 'integration.md').read_text()
    assert '**Verdict: fail**' in text and 'test_retrieval_fs::test_b' in text


def test_missing_junit_is_a_one_line_failure(tmp_path):
    failed = write_integration_report(str(tmp_path), str(tmp_path / 'none.xml'), str(tmp_path / 'r.md'))
    assert isinstance(failed, TaskFailed) and failed.message.startswith(f'{tmp_path / "none.xml"}: cannot read')
    assert failed.message.endswith('run `doit integration`') and not (tmp_path / 'r.md').exists()
