"""`python -m tasks.report`: render reports/index.html outside doit (publish runs it when it ends, pass or fail)."""
import sys

from tasks.report.dashboard import render_action

if __name__ == '__main__':          # importing the module (the plugin's own checks do) renders nothing
    sys.exit(1 if render_action() else 0)
