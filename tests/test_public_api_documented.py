"""Every component passes the package checklist's API check here, so a public name without a docstring or a
failing doctest fails the test run, not only `doit publish` (which runs the same check when it packages).

The check runs as the package stage runs it: `python -m tasks.release.apicheck <import name>` in a fresh
interpreter, which sees the extension the build made.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = sorted(p.name for p in (ROOT / 'components').iterdir() if (p / 'pyproject.toml').is_file())


@pytest.mark.parametrize('component', COMPONENTS)
def test_every_public_name_is_documented_and_its_examples_pass(component):
    proc = subprocess.run([sys.executable, '-m', 'tasks.release.apicheck', f'embeddenator.{component}'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found['undocumented'] == []
    assert found['doctests']['failures'] == []
    assert found['doctests']['attempted'] > 0
