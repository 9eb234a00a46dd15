"""`python -m tasks.report`: render reports/index.html outside doit (publish runs it when it ends, pass or fail)."""
import sys

from tasks.report.dashboard import render_action

sys.exit(1 if render_action() else 0)
