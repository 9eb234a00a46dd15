"""Embeddenator's doit plugin: the workspace's task graph, one module per stage.

`dodo.py` imports `DOIT_CONFIG` and the `task_*` creators from the stage modules; nothing here names a
component, so the plugin serves any workspace laid out as components/<name>/pyproject.toml.
"""

DOIT_CONFIG = {
    # json: portable and fast; the default dbm degrades to the slow dbm.dumb on Pythons built without gdbm.
    'backend': 'json',
    'dep_file': '.doit.json',
    # the everyday loop: compile what changed, then re-run the tests that depend on it
    'default_tasks': ['build', 'test'],
    'verbosity': 1,
}
