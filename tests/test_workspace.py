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
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool.embeddenator]\nextensions = [1]\n',
     r'each \[\[tool.embeddenator.extensions\]\] must be a table$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[[tool.embeddenator.extensions]]\nname = 3\n'
     'sources = ["s.pyx"]\n', r'\[tool.embeddenator.extensions\] name must be a str, got int 3$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[[tool.embeddenator.extensions]]\nname = "x"\n'
     'sources = ["s.pyx"]\ninclude_dirs = [1]\n', r'\[tool.embeddenator.extensions\] include_dirs must be a list '
     r'of strings$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[[tool.embeddenator.extensions]]\nname = "x"\n'
     'sources = ["s.pyx"]\nextra_compile_args = "-O2"\n', r'\[tool.embeddenator.extensions\] extra_compile_args '
     r'must be a list'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[[tool.embeddenator.extensions]]\nname = "x"\n'
     'sources = ["s.pyx"]\nextra_link_args = "-lm"\n', r'\[tool.embeddenator.extensions\] extra_link_args must be '
     r'a list'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool.embeddenator]\nextensions = {}\n',
     r'\[tool.embeddenator\] extensions must be a list, got dict \{\}$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool.embeddenator]\ncython-directives = []\n',
     r'\[tool.embeddenator\] cython-directives must be a dict'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\ndependencies = [3]\n',
     r'\[project\] dependencies must be strings, got 3$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool]\nembeddenator = 1\n',
     r'\[tool.embeddenator\] must be a table$'),
    ('[project]\nname = "embeddenator-a"\nversion = "0.2.0"\n[tool.embeddenator]\npaths = ["ok", 1]\n',
     r'\[tool.embeddenator\] paths must be a list of strings$'),
])
def test_malformed_fields_name_file_and_field(tmp_path, text, field):
    write_component(tmp_path, 'a').write_text(text, encoding='utf-8')
    with pytest.raises(WorkspaceError, match=r'^components/a/pyproject.toml: .*' + field):
        load_workspace(tmp_path)


def test_no_components_folder(tmp_path):
    with pytest.raises(WorkspaceError, match='no components folder'):
        load_workspace(tmp_path)


EXTENSION = """
[tool.embeddenator]
paths = ["pyx", "pyx"]
flag = "on"

[tool.embeddenator.cython-directives]
boundscheck = false

[[tool.embeddenator.extensions]]
name = "embeddenator.a._k"
sources = ["pyx/k.pyx"]
include_dirs = ["pyx"]
extra_compile_args = ["-O3"]
extra_link_args = ["-lm"]
"""


def test_every_field_of_an_extension_and_the_tool_table_is_read(tmp_path):
    write_component(tmp_path, 'a', extra=EXTENSION)
    [comp] = load_workspace(tmp_path).components.values()
    [ext] = comp.extensions
    assert (ext.name, ext.sources, ext.include_dirs, ext.extra_compile_args, ext.extra_link_args) == (
        'embeddenator.a._k', ('pyx/k.pyx',), ('pyx',), ('-O3',), ('-lm',))
    assert comp.cython_directives == {'boundscheck': False} and comp.paths == ('components/a', 'pyx')
    assert comp.settings['flag'] == 'on' and comp.manifest == (tmp_path / 'components/a/pyproject.toml').resolve()


def test_optional_extension_fields_default_to_empty(tmp_path):
    write_component(tmp_path, 'a', extra='[[tool.embeddenator.extensions]]\nname = "x"\nsources = ["s.pyx"]\n')
    [ext] = load_workspace(tmp_path).components['a'].extensions
    assert (ext.include_dirs, ext.extra_compile_args, ext.extra_link_args) == ((), (), ())
    assert load_workspace(tmp_path).components['a'].cython_directives == {}


def test_folders_starting_with_a_dot_or_underscore_and_files_are_not_components(tmp_path):
    write_component(tmp_path, 'a')
    for hidden in ('.cache', '_build'):
        (tmp_path / 'components' / hidden).mkdir()
    (tmp_path / 'components' / 'notes.txt').write_text('x')
    assert list(load_workspace(tmp_path).components) == ['a']


def test_an_empty_components_folder_says_what_each_component_needs(tmp_path):
    (tmp_path / 'components').mkdir()
    with pytest.raises(WorkspaceError, match=r'components: no component found; each needs '
                                             r'components/<name>/pyproject.toml$'):
        load_workspace(tmp_path)


def test_another_prefix_and_components_folder(tmp_path):
    folder = tmp_path / 'pkgs' / 'b'
    folder.mkdir(parents=True)
    (folder / 'pyproject.toml').write_text('[project]\nname = "acme-b"\nversion = "1.0"\n')
    comp = load_workspace(tmp_path, 'pkgs', prefix='acme-').components['b']
    assert (comp.dist, comp.paths) == ('acme-b', ('pkgs/b',))


def test_an_invalid_folder_name_is_named(tmp_path):
    write_component(tmp_path, 'Bad-Name')
    with pytest.raises(WorkspaceError, match=r"^components/Bad-Name/pyproject.toml: folder name 'Bad-Name' is not a "
                                             r'valid component name \(lowercase, a-z0-9_\)$'):
        load_workspace(tmp_path)


def test_a_cycle_names_its_first_manifest_and_every_member(tmp_path):
    write_component(tmp_path, 'a', deps=['b'])
    write_component(tmp_path, 'b', deps=['a'])
    with pytest.raises(WorkspaceError) as err:
        load_workspace(tmp_path)
    message = str(err.value)
    first = message.split(':', 1)[0]
    members = message.split('(', 1)[1].split(')', 1)[0].split(' -> ')
    assert first == f'components/{members[0]}/pyproject.toml' and set(members) == {'a', 'b'}
    assert message.endswith('; remove one of these dependencies')


def test_a_manifest_outside_the_root_is_named_by_its_full_path(tmp_path):
    from tasks.core.workspace import read_component
    folder = tmp_path / 'elsewhere' / 'a'
    folder.mkdir(parents=True)
    with pytest.raises(WorkspaceError, match=r'^' + str(folder / 'pyproject.toml') + ': missing'):
        read_component(folder, tmp_path / 'root')
