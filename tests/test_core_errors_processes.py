"""The plugin's failures share one base, and a tool run (tasks.core.processes) keeps its output and its timeout
as a result: a check that runs a hung tool records the failure instead of raising."""
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

from tasks.core import processes
from tasks.core.errors import PluginError

ROOT = Path(__file__).resolve().parents[1]


def _plugin_modules():
    for path in sorted((ROOT / 'tasks').rglob('*.py')):
        parts = path.relative_to(ROOT).with_suffix('').parts
        if 'suite' in parts:            # the benchmark suite imports the components, not the plugin
            continue
        yield importlib.import_module('.'.join(parts[:-1] if parts[-1] == '__init__' else parts))


def test_every_exception_of_the_plugin_is_a_plugin_error():
    found = {f'{m.__name__}.{name}': cls for m in _plugin_modules() for name, cls in vars(m).items()
             if inspect.isclass(cls) and issubclass(cls, Exception) and cls.__module__ == m.__name__}
    assert len(found) >= 10 and [n for n, cls in found.items() if not issubclass(cls, PluginError)] == []


def test_a_run_keeps_the_interleaved_output_and_appends_it_to_the_log(tmp_path):
    log = tmp_path / 'logs' / 'tool.log'
    code = 'import sys; print("out"); print("err", file=sys.stderr); sys.exit(3)'
    done = processes.run([sys.executable, '-c', code], log)
    assert (done.ok, done.returncode, done.tail(), done.tail(2)) == (False, 3, 'err', 'out\nerr')
    assert log.read_text().endswith('out\nerr\n\n') and log.read_text().startswith('$ ')


def test_a_timeout_is_a_result_not_an_exception(tmp_path):
    done = processes.run([sys.executable, '-c', 'import time; print("started", flush=True); time.sleep(30)'],
                         timeout=1)
    assert done.timed_out and not done.ok and done.tail() == '(stopped after 1 s)'
    assert 'started' in done.output


def test_credentials_never_reach_the_log_or_the_message(tmp_path):
    log = tmp_path / 'twine.log'
    done = processes.run([sys.executable, '-c', 'print("token s3cret refused")'], log,
                         redact=lambda text: text.replace('s3cret', '****'))
    assert 's3cret' not in log.read_text() and done.tail() == 'token **** refused'


def test_the_fuzz_check_records_a_hung_reader_as_a_failure(tmp_path, monkeypatch):
    from tasks.audit import audit_checks
    from test_audit import copy_kernels
    root = copy_kernels(tmp_path)
    module = root / 'components' / 'io' / 'src' / 'embeddenator' / 'io' / 'fuzz.py'
    module.parent.mkdir(parents=True)
    module.write_text('')

    def hung(cmd, timeout=None, **kwargs):
        raise subprocess.TimeoutExpired(cmd, timeout, output='partial')

    monkeypatch.setattr(subprocess, 'run', hung)
    result = audit_checks.check_fuzz(str(root), str(tmp_path / 'build'), 1)
    assert result['verdict'] == 'fail' and result['runs'][0]['status'] == 'timeout'
