"""pytest plugin for the sanitizer run (`-p sanitizer_guard`): stop at once unless every sanitized module is
imported from its staging folder, and name each one in the run's header.

EMBEDDENATOR_AUDIT_STAGE lists `module=folder` pairs (os.pathsep-separated); the audit sets it, and
EMBEDDENATOR_AUDIT_IMPORTED, a file that receives one `sanitized module: <name> from <path>` line per module.
"""
import importlib
import os

import pytest

ENV = 'EMBEDDENATOR_AUDIT_STAGE'
RECORD = 'EMBEDDENATOR_AUDIT_IMPORTED'


def _check():
    lines = []
    for pair in filter(None, os.environ.get(ENV, '').split(os.pathsep)):
        name, stage = pair.split('=', 1)
        path = os.path.realpath(importlib.import_module(name).__file__)
        if not path.startswith(os.path.realpath(stage) + os.sep):
            raise pytest.UsageError(f'{name} was imported from {path}, not from the sanitizer build in {stage}; '
                                    f'put {stage} first on PYTHONPATH')
        lines.append(f'sanitized module: {name} from {path}')
    return lines


def pytest_configure(config):
    lines = _check()
    if os.environ.get(RECORD):
        with open(os.environ[RECORD], 'w', encoding='utf-8') as out:
            out.write(''.join(line + '\n' for line in lines))
