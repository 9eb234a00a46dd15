"""Long steps print what they are doing (tasks.heartbeat)."""
import io
import sys
import time

from tasks.core import heartbeat


def test_a_heartbeat_prints_the_current_status_until_the_block_ends():
    out, state = io.StringIO(), {'now': 'first'}
    with heartbeat.Heartbeat('bench', lambda: state['now'], every=0.02, stream=out):
        time.sleep(0.1)
        state['now'] = 'second'
        time.sleep(0.1)
    lines = out.getvalue().splitlines()
    assert lines and lines[0].startswith('bench: first (') and any(line.startswith('bench: second') for line in lines)
    count = len(lines)
    time.sleep(0.06)
    assert len(out.getvalue().splitlines()) == count


def test_run_returns_the_completed_process():
    proc = heartbeat.run([sys.executable, '-c', 'print(42)'], 'x', capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == '42'
