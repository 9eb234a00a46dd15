"""The test summary: JUnit files in, counts per suite and a verdict out, rendered with its JSON twin."""
import json

import pytest
from doit.exceptions import TaskFailed

from tasks.core.junit import JUnitError
from tasks.test.test_report import junit_counts, summarize, write_summary

PYTEST_XML = ('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
              '<testsuite name="pytest" errors="{e}" failures="{f}" skipped="{s}" tests="{t}" time="{d}">'
              '</testsuite></testsuites>')


def junit(tmp_path, name, t, f=0, e=0, s=0, d=1.25):
    path = tmp_path / f'{name}.xml'
    path.write_text(PYTEST_XML.format(t=t, f=f, e=e, s=s, d=d), encoding='utf-8')
    return path


def test_counts_split_passed_failed_and_skipped(tmp_path):
    got = junit_counts('vsa', junit(tmp_path, 'vsa', t=10, f=2, e=1, s=3, d=2.5))
    assert (got.passed, got.failed, got.skipped, got.duration, got.junit) == (4, 3, 3, 2.5, 'vsa.xml')


def test_a_lone_testsuite_root_is_read_too(tmp_path):
    path = tmp_path / 'x.xml'
    path.write_text('<testsuite tests="2" failures="0" errors="0" skipped="1" time="0.5"/>', encoding='utf-8')
    assert junit_counts('x', path).passed == 1


def test_missing_junit_names_the_file_and_the_task(tmp_path):
    with pytest.raises(JUnitError, match=r'io.xml: cannot read .*run `doit test:io`'):
        junit_counts('io', tmp_path / 'io.xml')


def test_verdict_fails_on_any_failure_and_names_the_suite(tmp_path):
    ok = junit_counts('io', junit(tmp_path, 'io', t=3))
    bad = junit_counts('integration', junit(tmp_path, 'integration', t=4, f=1))
    data = summarize([ok, bad])
    assert data['verdict'] == 'fail' and data['summary'].endswith('failing: integration')
    assert data['totals'] == {'passed': 6, 'failed': 1, 'skipped': 0, 'duration': 2.5}
    assert summarize([ok])['verdict'] == 'pass'


def test_a_run_without_any_passed_test_fails(tmp_path):
    assert summarize([junit_counts('io', junit(tmp_path, 'io', t=2, s=2))])['verdict'] == 'fail'


def test_write_summary_renders_markdown_and_json(tmp_path, capsys):
    files = {'io': str(junit(tmp_path, 'io', t=3, s=1)), 'integration': str(junit(tmp_path, 'integration', t=2))}
    out = tmp_path / 'summary.md'
    assert write_summary(files, str(out)) is True
    data = json.loads(out.with_suffix('.json').read_text())
    assert data['verdict'] == 'pass' and [s['name'] for s in data['suites']] == ['io', 'integration']
    text = out.read_text()
    assert '| io | 2 | 0 | 1 | 1.25 |' in text and '| integration | 2 | 0 | 0 | 1.25 |' in text
    failed = write_summary({'cli': str(tmp_path / 'cli.xml')}, str(out))
    assert isinstance(failed, TaskFailed) and 'cli.xml: cannot read' in failed.message
