"""The workspace model: manifests in, graph and levels out, clear errors for every malformed case."""
import graphlib
from pathlib import Path

import pytest

from tasks.core.workspace import WorkspaceError, compute_levels, load_workspace, release_order

ROOT = Path(__file__).resolve().parents[1]


def write_component(root: Path, name: str, deps=(), version='0.2.0', extra=''):
    folder = root / 'components' / name
    folder.mkdir(parents=True, exist_ok=True)
    dep_lines = ', '.join(f'"embeddenator-{d}>=0.2,<0.3"' for d in deps)
    (folder / 'pyproject.toml').write_text(
        f'[project]\nname = "embeddenator-{name}"\nversion = "{version}"\ndependencies = [{dep_lines}]\n{extra}',
        encoding='utf-8')
    return folder / 'pyproject.toml'


def test_real_workspace_levels_are_the_plans():
    ws = load_workspace(ROOT)
    assert ws.levels() == {'io': 0, 'obs': 0, 'vsa': 1, 'retrieval': 2, 'fs': 3, 'interop': 4, 'cli': 5}


def test_real_workspace_dependencies_are_exactly_declared():
    ws = load_workspace(ROOT)
    deps = {name: set(c.deps) for name, c in ws.components.items()}
    assert deps == {'io': set(), 'obs': set(), 'vsa': {'obs'}, 'retrieval': {'vsa', 'io', 'obs'},
                    'fs': {'vsa', 'retrieval', 'io', 'obs'}, 'interop': {'vsa', 'fs', 'io'},
                    'cli': {'vsa', 'retrieval', 'fs', 'interop', 'io', 'obs'}}


def test_release_order_puts_every_component_after_its_dependencies():
    ws = load_workspace(ROOT)
    order = ws.order()
    for name, comp in ws.components.items():
        assert all(order.index(dep) < order.index(name) for dep in comp.deps)


def test_closure_and_dependents_are_transitive():
    ws = load_workspace(ROOT)
    assert ws.closure('interop') == {'vsa', 'fs', 'io', 'obs', 'retrieval'}
    assert ws.dependents('vsa') == {'retrieval', 'fs', 'interop', 'cli'}
    assert ws.dependents('cli') == set()


def test_vsa_owns_the_kernel_sources():
    comp = load_workspace(ROOT).components['vsa']
    assert comp.paths == ('components/vsa', 'pyx')
    assert [e.name for e in comp.extensions] == ['embeddenator.vsa._kernels']


def test_levels_follow_the_longest_dependency_chain():
    assert compute_levels({'a': set(), 'b': {'a'}, 'c': {'a', 'b'}, 'd': set()}) == {'a': 0, 'd': 0, 'b': 1, 'c': 2}


def test_release_order_is_deterministic_and_alphabetical_within_a_level():
    assert release_order({'z': set(), 'a': set(), 'm': {'z'}}) == ['a', 'z', 'm']


def test_release_order_names_the_cycle():
    with pytest.raises(graphlib.CycleError) as err:
        release_order({'a': {'b'}, 'b': {'a'}, 'c': set()})
    assert set(err.value.args[1]) == {'a', 'b'}


def test_cycle_is_an_error_naming_the_manifest_and_the_cycle(tmp_path):
    write_component(tmp_path, 'a', deps=['b'])
    write_component(tmp_path, 'b', deps=['c'])
    write_component(tmp_path, 'c', deps=['a'])
    with pytest.raises(WorkspaceError, match=r'components/\w/pyproject.toml: \[project\] dependencies form a cycle'):
        load_workspace(tmp_path)


def test_dependency_on_an_unknown_component(tmp_path):
    write_component(tmp_path, 'a', deps=['ghost'])
    with pytest.raises(WorkspaceError) as err:
        load_workspace(tmp_path)
    assert 'components/a/pyproject.toml' in str(err.value)
    assert 'embeddenator-ghost' in str(err.value) and 'not a component' in str(err.value)


def test_third_party_dependencies_are_not_siblings(tmp_path):
    write_component(tmp_path, 'a')
    manifest = tmp_path / 'components' / 'a' / 'pyproject.toml'
    manifest.write_text(manifest.read_text().replace('dependencies = []', 'dependencies = ["numpy>=1.26"]'))
    assert load_workspace(tmp_path).components['a'].deps == ()


def test_missing_manifest(tmp_path):
    (tmp_path / 'components' / 'empty').mkdir(parents=True)
    with pytest.raises(WorkspaceError, match=r'components/empty/pyproject.toml: missing'):
        load_workspace(tmp_path)


def test_invalid_toml(tmp_path):
    write_component(tmp_path, 'a').write_text('[project\nname = ', encoding='utf-8')
    with pytest.raises(WorkspaceError, match=r'components/a/pyproject.toml: not valid TOML'):
        load_workspace(tmp_path)


@pytest.mark.parametrize('text, field', [
    ('[tool.x]\n', 'no \\[project\\] table'),
    ('[project]\nversion = "0.2.0"\n', "\\[project\\] has no 'name'"),
    ('[project]\nname = "embeddenator-a"\n', "\\[project\\] has no 'version'"),
    ('[project]\nname = "embeddenator-a"\nversion = "not.a.version!"\n', 'version .* is not a PEP 440'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\ndependencies = "x"\n', 'dependencies must be a list'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\ndependencies = ["in valid ((("]\n',
     'is not a PEP 508 requirement'),
    ('[project]\nname = "other-a"\nversion = "0.2.0"\n', "name is 'other-a'; it must be 'embeddenator-a'"),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool.embeddenator]\npaths = "pyx"\n',
     r'\[tool.embeddenator\] paths must be a list'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[[tool.embeddenator.extensions]]\nname = "x"\n',
     r"\[tool.embeddenator.extensions\] has no 'sources'"),
])
def test_malformed_fields_name_file_and_field(tmp_path, text, field):
    write_component(tmp_path, 'a').write_text(text, encoding='utf-8')
    with pytest.raises(WorkspaceError, match=r'^components/a/pyproject.toml: .*' + field):
        load_workspace(tmp_path)


def test_no_components_folder(tmp_path):
    with pytest.raises(WorkspaceError, match='no components folder'):
        load_workspace(tmp_path)
