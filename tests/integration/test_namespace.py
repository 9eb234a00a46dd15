"""The seven distributions share one PEP 420 namespace and import together, from a workspace or an index."""
import importlib
from importlib.metadata import distribution, requires, version

import pytest
from packaging.requirements import Requirement

COMPONENTS = ['io', 'obs', 'vsa', 'retrieval', 'fs', 'interop', 'cli']


@pytest.mark.parametrize('name', COMPONENTS)
def test_every_component_imports_under_the_namespace(name):
    module = importlib.import_module(f'embeddenator.{name}')
    assert module.__version__ == version(f'embeddenator-{name}')


def test_the_namespace_has_no_init_module():
    import embeddenator
    assert getattr(embeddenator, '__file__', None) is None  # PEP 420: nobody owns `embeddenator` itself
    for name in COMPONENTS:
        shipped = distribution(f'embeddenator-{name}').files or []
        assert not [f for f in shipped if str(f).replace('\\', '/') == 'embeddenator/__init__.py'], name


def test_every_component_module_is_found_through_the_namespace_path():
    import embeddenator
    portions = [str(p) for p in embeddenator.__path__]
    for name in COMPONENTS:
        module = importlib.import_module(f'embeddenator.{name}')
        assert any(str(module.__file__).startswith(p) for p in portions), name


def test_declared_sibling_dependencies_are_satisfied_by_the_installed_versions():
    for name in COMPONENTS:
        for text in requires(f'embeddenator-{name}') or []:
            req = Requirement(text)
            if req.name.startswith('embeddenator-'):
                assert req.specifier.contains(version(req.name), prereleases=True), f'{name}: {req}'
