"""Publishing reports: a Jinja2 template rendered to Markdown with its JSON twin, both written atomically."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

from doit.exceptions import TaskFailed

from tasks.core.errors import failed
from tasks.core.files import replace_file

TEMPLATES = Path(__file__).resolve().parents[2] / 'templates'


def render(template: str, context: dict) -> str:
    import jinja2   # only a task that writes a report pays for it, not every load of the task graph
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template(template).render(**context)


def write_report(markdown: Path, template: str, data: dict) -> None:
    """`markdown` from `template` (the data is its context) and `markdown.with_suffix('.json')` from the data."""
    replace_file(markdown.with_suffix('.json'), json.dumps(data, indent=2, sort_keys=True) + '\n')
    replace_file(markdown, render(template, data))


def write_gate_report(label: str, markdown: Path, template: str, build: Callable[[], dict],
                      errors: tuple[type[Exception], ...]) -> bool | TaskFailed:
    """Action body of a gate's report: `build()` its data (one of `errors` fails in one line, no report), write
    the Markdown and its JSON twin, print the summary line; True when the verdict is pass, else the one line."""
    try:
        data = build()
    except errors as err:
        return failed(err)
    write_report(markdown, template, data)
    print(f'{label}: {data["summary"]}', file=sys.stderr)
    return True if data['verdict'] == 'pass' else failed(f'{label}: {data["summary"]}; see {markdown}')
