"""Progress a person can follow: every task prints its wall time when it finishes, and the console gives the
same suite durations as reports/tests/summary.md (one definition: the JUnit file's)."""
import json
import re

from test_everyday_loop import doit, executed, make_toy


def test_every_task_reports_its_time_and_the_console_agrees_with_the_summary(tmp_path):
    make_toy(tmp_path)
    proc = doit(tmp_path)
    ran = executed(proc)
    timed = set(re.findall(r'^(\S+): done in \d+\.\d s$', proc.stdout, re.M))
    assert ran and ran <= timed
    console = {m[0]: float(m[1]) for m in re.findall(r'^test:(\w+): \d+ passed, 0 failed, 0 skipped in (\d+\.\d\d) s$',
                                                     proc.stderr, re.M)}
    summary = json.loads((tmp_path / 'reports' / 'tests' / 'summary.json').read_text())
    assert console and all(round(s['duration'], 2) == console[s['name']] for s in summary['suites']
                           if s['name'] in console)
