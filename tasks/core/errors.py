"""The plugin's expected failures: one base class, and the one way an action reports them to doit.

Every stage's error derives from PluginError and carries a one-line message naming the file, the field and the
fix. An action never prints to stderr and returns False: it returns `failed(...)` (a doit TaskFailed), so doit
shows that one line and no traceback; `expected_failures` turns a raised PluginError into the same.
"""
from __future__ import annotations

import functools

from doit.exceptions import TaskFailed


class PluginError(Exception):
    """An expected failure of the plugin: the message is the one line a user reads (file: field: what to do)."""


def failed(message: object) -> TaskFailed:
    """What an action returns when it fails as expected: doit prints `message`, without a traceback."""
    return TaskFailed(str(message).strip())


def expected_failures(action):
    """Decorate an action: a PluginError it raises ends the task as `failed(error)` instead of a traceback."""
    @functools.wraps(action)
    def run(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except PluginError as err:
            return failed(err)
    return run
