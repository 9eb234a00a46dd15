"""The README's checkable claims hold: every `doit <task>` it names exists, every setting it names is read."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text(encoding='utf-8')
DOIT_COMMANDS = {'list', 'clean', 'info', 'forget', 'ignore', 'help', 'run', 'auto', 'dumpdb', 'strace',
                 'tabcompletion', 'reset-dep'}


def named_tasks() -> set[str]:
    """Task names in `doit <name> ...` spans of the README (options and doit's own commands left out)."""
    spans = re.findall(r'`(?:python -m )?doit ([^`]*)`', README)
    return {s.split()[0] for s in spans if s and not s.startswith('-')} - DOIT_COMMANDS - {'<task>'}


def test_every_task_the_readme_names_exists():
    proc = subprocess.run([sys.executable, '-m', 'doit', 'list', '--all', '--quiet'], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    listed = set(proc.stdout.split())
    names = named_tasks()
    assert {'build', 'test', 'bench', 'publish', 'test:vsa'} <= names
    assert names <= listed, sorted(names - listed)


def test_every_setting_the_readme_names_is_read_by_the_plugin():
    settings = set(re.findall(r'`([a-z]+(?:[-_][a-z]+)+)` \(', README)) | set(re.findall(r'`(bench-[a-z]+)`', README))
    settings = {s for s in settings if not s.startswith('embeddenator-')}   # the distributions' names
    code = '\n'.join(p.read_text(encoding='utf-8') for p in (ROOT / 'tasks').rglob('*.py'))
    assert 'bench-reference' in settings and 'audit_fuzz_seconds' in settings
    assert {s for s in settings if f"'{s}'" not in code} == set()


def test_the_readme_says_how_the_changelog_drafts_become_released_sections():
    assert "Publishing turns each changelog's draft section into the released one" not in README
    assert '`doit changelog` afterwards turns each' in README
