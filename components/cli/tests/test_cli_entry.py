import subprocess
import sys

from embeddenator.cli import __version__


def test_version_flag_prints_the_package_version():
    out = subprocess.run([sys.executable, '-m', 'embeddenator.cli', '--version'], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == f'embeddenator {__version__}'


def test_unknown_option_is_a_user_error():
    out = subprocess.run([sys.executable, '-m', 'embeddenator.cli', 'info', 'x', '--nope'], capture_output=True,
                         text=True)
    assert out.returncode == 1                     # 1: user error; 2 is kept for corrupt data
    assert 'unrecognized arguments: --nope' in out.stderr
