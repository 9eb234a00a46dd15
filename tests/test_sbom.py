"""The CycloneDX bills of materials: the runtime closure as the verification venv resolved it, digests from pip's
installation reports, the kernels' toolchain for a compiled package, and a document the CycloneDX schema accepts
(validated offline)."""
from __future__ import annotations

import hashlib
import json
import socket

import pytest

from tasks.release import sbom
from tasks.release.sbom import Installed, Subject


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


ENV = {'python_version': '3.11', 'sys_platform': 'linux', 'platform_system': 'Linux', 'os_name': 'posix',
       'platform_machine': 'x86_64', 'implementation_name': 'cpython', 'platform_python_implementation': 'CPython',
       'python_full_version': '3.11.7', 'platform_release': '', 'platform_version': '', 'implementation_version':
       '3.11.7'}
VENV = {
    'embeddenator-retrieval': Installed(
        'embeddenator-retrieval', '0.2.0', ('embeddenator-vsa==0.2.0', 'dask[distributed]>=2024.1',
                                            'pytest; extra == "test"', 'pywin32; sys_platform == "win32"'), h('r')),
    'embeddenator-vsa': Installed('embeddenator-vsa', '0.2.0', ('numpy>=1.26',), h('v')),
    'numpy': Installed('numpy', '2.1.0', (), h('n')),
    'dask': Installed('dask', '2024.8.0', ('distributed==2024.8.0; extra == "distributed"', 'toolz>=0.10'),
                      h('d')),
    'distributed': Installed('distributed', '2024.8.0', ('toolz>=0.10',), None),
    'toolz': Installed('toolz', '1.0.0', (), h('t')),
    'pytest': Installed('pytest', '8.3.0', (), h('p')),
    'pip': Installed('pip', '26.0', (), None),
}
TOOLCHAIN = {'cc': 'gcc -pthread', 'cc_version': 'gcc (Debian 12.2.0-14) 12.2.0', 'cflags': '-O2 -Wall',
             'extensions': [['embeddenator.vsa._kernels', ['-O3', '-fopenmp'], ['-fopenmp']]], 'cython': '3.1.2',
             'directives': {'boundscheck': False, 'language_level': 3}, 'python': '3.11'}


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a connection fails the test: the schema validation must need no network."""
    def refuse(*args, **kwargs):
        raise AssertionError('the validation tried to reach the network')
    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)


def validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)[:2000]


def test_the_closure_follows_markers_and_asked_for_extras_only():
    edges = sbom.closure('embeddenator-retrieval', VENV, ENV)
    assert edges == {'dask': ['distributed', 'toolz'], 'distributed': ['toolz'],
                     'embeddenator-retrieval': ['dask', 'embeddenator-vsa'], 'embeddenator-vsa': ['numpy'],
                     'numpy': [], 'toolz': []}


def test_digests_come_from_the_installation_reports_of_the_exact_version():
    reports = [{'install': [{'metadata': {'name': 'NumPy', 'version': '2.1.0'},
                             'download_info': {'archive_info': {'hashes': {'sha256': 'abc'}}}},
                            {'metadata': {'name': 'toolz', 'version': '1.0.0'},
                             'download_info': {'dir_info': {}}}]},
               {'install': [{'metadata': {'name': 'numpy', 'version': '2.0.0'},
                             'download_info': {'archive_info': {'hashes': {'sha256': 'old'}}}}]}]
    hashes = sbom.archive_hashes(reports)
    assert hashes == {('numpy', '2.1.0'): 'abc', ('numpy', '2.0.0'): 'old'}
    venv = sbom.installed({'installed': [{'metadata': {'name': 'numpy', 'version': '2.1.0'}},
                                         {'metadata': {'name': 'toolz', 'version': '1.0.0',
                                                       'requires_dist': ['a']}}]}, hashes)
    assert venv['numpy'] == Installed('numpy', '2.1.0', (), 'abc')
    assert venv['toolz'] == Installed('toolz', '1.0.0', ('a',), None)


def test_a_bill_lists_the_runtime_closure_with_versions_and_digests(offline):
    subject = Subject('embeddenator_retrieval-0.2.0-py3-none-any.whl', h('w'), 'embeddenator-retrieval', '0.2.0')
    text = sbom.bill_of_materials(subject, VENV, sbom.closure('embeddenator-retrieval', VENV, ENV))
    validate(text)
    doc = json.loads(text)
    top = doc['metadata']['component']
    assert (top['name'], top['version'], top['hashes']) == ('embeddenator-retrieval', '0.2.0',
                                                            [{'alg': 'SHA-256', 'content': h('w')}])
    assert top['purl'] == ('pkg:pypi/embeddenator-retrieval@0.2.0'
                           '?file_name=embeddenator_retrieval-0.2.0-py3-none-any.whl')
    parts = {c['name']: c for c in doc['components']}
    assert set(parts) == {'embeddenator-vsa', 'numpy', 'dask', 'distributed', 'toolz'}
    assert parts['numpy']['version'] == '2.1.0' and parts['numpy']['hashes'][0]['content'] == h('n')
    assert 'hashes' not in parts['distributed']   # installed from a source tree: no archive digest to claim
    assert all(c['scope'] == 'required' for c in parts.values())
    deps = {d['ref']: d.get('dependsOn', []) for d in doc['dependencies']}
    assert deps[top['bom-ref']] == sorted([parts['dask']['bom-ref'], parts['embeddenator-vsa']['bom-ref']])
    assert 'properties' not in top


def test_a_compiled_package_records_compiler_cython_and_flags(offline):
    subject = Subject('embeddenator_vsa-0.2.0-cp311-cp311-linux_x86_64.whl', h('v'), 'embeddenator-vsa', '0.2.0',
                      TOOLCHAIN)
    text = sbom.bill_of_materials(subject, VENV, sbom.closure('embeddenator-vsa', VENV, ENV))
    validate(text)
    doc = json.loads(text)
    props = {p['name']: p['value'] for p in doc['metadata']['component']['properties']}
    assert props['embeddenator:build:extension:embeddenator.vsa._kernels:compile-args'] == '-O3 -fopenmp'
    assert props['embeddenator:build:extension:embeddenator.vsa._kernels:link-args'] == '-fopenmp'
    assert json.loads(props['embeddenator:build:cython-directives']) == {'boundscheck': False, 'language_level': 3}
    assert props['embeddenator:build:cflags'] == '-O2 -Wall'
    tools = {c['name']: c for c in doc['components'] if c.get('scope') == 'excluded'}
    assert tools['gcc']['version'] == '12.2.0' and tools['Cython']['version'] == '3.1.2'
    assert {c['name'] for c in doc['components'] if c.get('scope') == 'required'} == {'numpy'}


def test_the_validator_catches_a_broken_bill(offline):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    doc = json.loads(sbom.bill_of_materials(Subject('x.whl', h('a'), 'numpy', '2.1.0'), VENV, {'numpy': []}))
    doc['metadata']['component']['type'] = 'not-a-type'
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc)) is not None


def test_write_sboms_puts_each_bill_beside_its_file_and_a_copy_in_the_reports(tmp_path):
    files = {tmp_path / 'dist' / 'embeddenator_vsa-0.2.0.tar.gz': h('s'),
             tmp_path / 'dist' / 'embeddenator_vsa-0.2.0-cp311-cp311-linux_x86_64.whl': h('w')}
    (tmp_path / 'dist').mkdir()
    written = sbom.write_sboms(files, 'embeddenator-vsa', '0.2.0', VENV, ENV, TOOLCHAIN, tmp_path / 'copies')
    assert sorted(p.name for p in written) == sorted(f.name + '.cdx.json' for f in files)
    for path in written:
        assert path.parent == tmp_path / 'dist'
        assert (tmp_path / 'copies' / path.name).read_text() == path.read_text()
        doc = json.loads(path.read_text())
        assert doc['metadata']['component']['hashes'][0]['content'] == files[path.with_name(path.name[:-9])]


def test_the_publish_report_lists_the_bills_of_the_components_that_have_them():
    from tasks.core.reporting import render
    record = {'level': 0, 'dist': 'embeddenator-io', 'version': '0.2.0', 'status': 'published', 'uploaded': None,
              'served': None, 'verified': None, 'tag': None, 'files': [], 'error': None}
    data = {'dry_run': False, 'index': 'local index', 'verdict': 'pass', 'summary': '2/2', 'commit': 'abc',
            'started': None, 'gates': [], 'reruns': [],
            'components': [record, {**record, 'dist': 'embeddenator-obs', 'sboms': ['dist/obs/o.whl.cdx.json']}]}
    text = render('publish.md.j2', data)
    assert '| embeddenator-obs | `dist/obs/o.whl.cdx.json` |' in text
    assert '| embeddenator-io | `' not in text.split('## Bills of materials')[1]
    assert '## Bills of materials' not in render('publish.md.j2', {**data, 'components': [record]})
