"""Embeddenator workspace: `doit` builds and tests what changed; `doit list` shows every stage."""
from tasks import DOIT_CONFIG  # noqa: F401
from tasks.apidocs import task_apidocs  # noqa: F401
from tasks.audit import task_audit  # noqa: F401
from tasks.bench import task_bench, task_bench_baseline  # noqa: F401
from tasks.build import task_build  # noqa: F401
from tasks.bump import task_bump  # noqa: F401
from tasks.changelog import task_changelog  # noqa: F401
from tasks.test import task_integration, task_test  # noqa: F401
from tasks.verify_published import task_verify_published  # noqa: F401
from tasks.package import task_package  # noqa: F401
from tasks.publish import task_publish  # noqa: F401
