"""Embeddenator's doit plugin: the workspace's task graph, one package per stage.

`core` holds what every stage shares; the stages are `compile` (the `build` task), `test`, `audit`, `bench`,
`release` and `report` (the dashboard).
`dodo.py` imports `DOIT_CONFIG` and the `task_*` creators from the stage packages; nothing here names a
component, so the plugin serves any workspace laid out as components/<name>/pyproject.toml.
"""

from tasks.core.reporter import TimedReporter

DOIT_CONFIG = {
    # json: portable and fast; the default dbm degrades to the slow dbm.dumb on Pythons built without gdbm.
    'backend': 'json',
    'dep_file': '.doit.json',
    # the everyday loop: compile what changed, then re-run the tests that depend on it
    'default_tasks': ['build', 'test'],
    'verbosity': 1,
    # the console reporter, plus each task's wall time when it finishes
    'reporter': TimedReporter,
}
