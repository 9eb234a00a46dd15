"""The seven distributions share one PEP 420 namespace and import together."""
import importlib
from importlib.metadata import requires

import pytest

COMPONENTS = ['io', 'obs', 'vsa', 'retrieval', 'fs', 'interop', 'cli']


@pytest.mark.parametrize('name', COMPONENTS)
def test_every_component_imports_under_the_namespace(name):
    module = importlib.import_module(f'embeddenator.{name}')
    assert module.__version__ == '0.2.0' or module.__version__.startswith('0.')


def test_namespace_spans_several_folders():
    import embeddenator
    assert len(list(embeddenator.__path__)) == len(COMPONENTS)


def test_declared_dependencies_resolve_to_installed_siblings():
    declared = [r.split(';')[0] for r in requires('embeddenator-cli')]
    assert any(r.startswith('embeddenator-vsa') for r in declared)
