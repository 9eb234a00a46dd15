"""Every component passes the package checklist's lint (flake8 over the component, with the workspace's
setup.cfg), so a long line fails the test run, not only `doit publish` when it packages."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = sorted(p.name for p in (ROOT / 'components').iterdir() if (p / 'pyproject.toml').is_file())


@pytest.mark.parametrize('component', COMPONENTS)
def test_the_component_passes_the_package_lint(component):
    proc = subprocess.run([sys.executable, '-m', 'flake8', str(ROOT / 'components' / component)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
