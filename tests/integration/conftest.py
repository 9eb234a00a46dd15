"""Shared fixtures of the integration suite: a small real tree (a slice of the Python standard library, which
nobody here wrote, plus the awkward cases: empty files and folders, symlinks, non-UTF-8 and unicode names)."""
import os
import shutil
import sysconfig
from pathlib import Path

import pytest

STDLIB = Path(sysconfig.get_paths()['stdlib'])


@pytest.fixture(scope='module')
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('tree') / 'src'
    shutil.copytree(STDLIB / 'json', root / 'json', ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy2(STDLIB / 'textwrap.py', root / 'textwrap.py')
    (root / 'empty-dir').mkdir()
    (root / 'empty.txt').write_bytes(b'')
    (root / 'ünïcødé ✓.txt').write_text('∑ ' * 700, encoding='utf-8')
    with open(os.path.join(os.fsencode(root), b'latin-\xe9.bin'), 'wb') as fh:
        fh.write(os.urandom(3000))
    os.symlink('json/__init__.py', root / 'link.py')
    return root


def run_cli(*argv, env=None, cwd=None):
    """The installed `embeddenator` command in a subprocess: (exit code, stdout, stderr)."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, '-m', 'embeddenator.cli', *map(str, argv)], capture_output=True,
                         text=True, env=env, cwd=cwd, timeout=120)
    return out.returncode, out.stdout, out.stderr
