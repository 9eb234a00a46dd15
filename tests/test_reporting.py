"""Reports are written atomically and with an ordinary file's mode (tasks.reporting)."""
import os

from tasks.core import files as reporting


def test_reports_get_the_mode_of_an_ordinary_file_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        reporting.replace_file(tmp_path / 'r.md', 'text\n')
    finally:
        os.umask(old)
    assert (tmp_path / 'r.md').stat().st_mode & 0o777 == 0o644
    assert (tmp_path / 'r.md').read_text() == 'text\n' and not list(tmp_path.glob('*.partial'))
