"""The report stage: `dashboard` renders one self-contained HTML page, reports/index.html, from the JSON reports
the other stages wrote (gates, tests, audit, bench, publish records, release notes) and the workspace model.
It reads files only; `python -m tasks.report` renders the same page outside doit (publish runs it at its end).
"""
