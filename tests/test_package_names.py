"""The package stage names its archives by what `build` produced (abi3 and manylinux wheels included), checks
them with packaging's parsers, and publish finds them in the package report rather than by guessing."""
import json
from pathlib import Path

import pytest

from tasks.core.workspace import load_workspace
from tasks.release import package

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def vsa():
    return load_workspace(ROOT).components['vsa']


@pytest.mark.parametrize('wheel', ['embeddenator_vsa-{v}-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
                                   'embeddenator_vsa-{v}-cp311-cp311-linux_x86_64.whl',
                                   'embeddenator_vsa-{v}-1-py3-none-any.whl'])
def test_any_wheel_tags_of_the_right_name_and_version_are_accepted(vsa, wheel):
    package.check_names(vsa, Path(f'embeddenator_vsa-{vsa.version}.tar.gz'), Path(wheel.format(v=vsa.version)))


@pytest.mark.parametrize('sdist, wheel', [
    ('embeddenator_vsa-9.9.9.tar.gz', 'embeddenator_vsa-{v}-py3-none-any.whl'),
    ('embeddenator_vsa-{v}.tar.gz', 'embeddenator_other-{v}-py3-none-any.whl'),
    ('embeddenator_vsa-{v}.tar.gz', 'not-a-wheel.whl'),
])
def test_an_archive_of_another_name_or_version_is_refused_in_one_line(vsa, sdist, wheel):
    with pytest.raises(package.PackageError, match=r'pyproject.toml: built .*; check \[project\] name and version'):
        package.check_names(vsa, Path(sdist.format(v=vsa.version)), Path(wheel.format(v=vsa.version)))


def test_publish_reads_the_built_files_from_the_package_report(vsa, monkeypatch, tmp_path):
    report = tmp_path / 'vsa.md'
    monkeypatch.setattr(package, 'report_path', lambda name: report)
    files = ['dist/vsa/embeddenator_vsa-0.2.0.tar.gz', 'dist/vsa/embeddenator_vsa-0.2.0-cp311-abi3-linux_x86_64.whl']
    report.with_suffix('.json').write_text(json.dumps({'files': [{'path': p} for p in files]}))
    assert package.distributions(vsa) == [ROOT / p for p in files]
    report.with_suffix('.json').unlink()
    with pytest.raises(package.PackageError, match=r'vsa.json: .*run `doit package:vsa`'):
        package.distributions(vsa)
