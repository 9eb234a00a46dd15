"""Workspace test fixtures shared by every plugin test."""
import pytest

from tasks.release import redact


@pytest.fixture(autouse=True)
def _forget_remembered_secrets():
    """Each test starts with no remembered secrets: a credential one test registers (a one-letter password, say)
    would otherwise be scrubbed from every later test's messages in the same process."""
    redact.forget()
    yield
    redact.forget()
