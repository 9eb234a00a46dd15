from importlib.metadata import version

import embeddenator.interop as pkg


def test_version_matches_installed_metadata():
    assert pkg.__version__ == version('embeddenator-interop')


def test_is_part_of_the_embeddenator_namespace():
    import embeddenator
    assert not hasattr(embeddenator, '__file__') or embeddenator.__file__ is None  # PEP 420: no __init__.py
    assert pkg.__name__ == 'embeddenator.interop'
