"""Embeddenator workspace: `doit` builds and tests what changed; `doit list` shows every stage."""
from tasks import DOIT_CONFIG  # noqa: F401
from tasks.release.apidocs import task_apidocs  # noqa: F401
from tasks.audit.audit import task_audit  # noqa: F401
from tasks.bench.bench import task_bench, task_bench_baseline  # noqa: F401
from tasks.compile.build import task_build  # noqa: F401
from tasks.release.bump import task_bump  # noqa: F401
from tasks.release.changelog import task_changelog  # noqa: F401
from tasks.test.test import task_integration, task_test  # noqa: F401
from tasks.release.verify_published import task_verify_published  # noqa: F401
from tasks.release.package import task_package  # noqa: F401
from tasks.release.publish import task_publish  # noqa: F401
from tasks.release.plan_task import task_publish_plan  # noqa: F401
from tasks.test.mutate import task_mutate  # noqa: F401
from tasks.report.dashboard import task_dashboard  # noqa: F401
