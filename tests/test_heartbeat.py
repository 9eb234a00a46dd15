"""Long steps print what they are doing (tasks.heartbeat)."""
import io
import sys
import time

from tasks.core import heartbeat


def _until(condition, timeout=30.0):
    """Wait for `condition` (a loaded machine may schedule the heartbeat thread late, never not at all)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'the heartbeat printed nothing'
        time.sleep(0.01)


def test_a_heartbeat_prints_the_current_status_until_the_block_ends():
    out, state = io.StringIO(), {'now': 'first'}
    with heartbeat.Heartbeat('bench', lambda: state['now'], every=0.02, stream=out):
        _until(lambda: out.getvalue())
        state['now'] = 'second'
        _until(lambda: 'bench: second' in out.getvalue())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith('bench: first (') and lines[-1].startswith('bench: second (')
    count = len(lines)
    time.sleep(0.06)
    assert len(out.getvalue().splitlines()) == count


def test_run_returns_the_completed_process():
    proc = heartbeat.run([sys.executable, '-c', 'print(42)'], 'x', capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == '42'
