"""Stored baselines: one per machine fingerprint, in a committed JSON file, replaced only when asked.

Layout of the file (`format` 1):

    {"format": 1,
     "machines": {"<fingerprint key>": {"fingerprint": {...}, "commit": "<sha>", "recorded": "<UTC time>",
                                         "metrics": {"<metric id>": {"value": .., "unit": .., "rel_ci": ..}}}}}

`bench` reads it and, for a machine that has no entry yet, records the run as that machine's baseline (and says
so); `bench_baseline` replaces the entry of the current machine with the latest results. Nothing else writes it.
"""
from __future__ import annotations

import json
from pathlib import Path

from tasks.core.errors import PluginError
from tasks.core.files import replace_file

FORMAT = 1


class BaselineError(PluginError):
    """The baseline file cannot be read; the message names the file, the field and the fix."""


def write_json(path: Path | str, data) -> None:
    replace_file(Path(path), json.dumps(data, indent=2) + '\n')


def load(path: Path | str) -> dict:
    """The stored baselines; an absent file is an empty store."""
    path = Path(path)
    if not path.exists():
        return {'format': FORMAT, 'machines': {}}
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except json.JSONDecodeError as err:
        raise BaselineError(f'{path}: not valid JSON ({err}); restore it from git or delete it to start over')
    if data.get('format') != FORMAT or not isinstance(data.get('machines'), dict):
        raise BaselineError(f'{path}: field "format" must be {FORMAT} with a "machines" object; '
                            'restore it from git or delete it to start over')
    return data


def metrics_of(results: dict) -> dict[str, dict]:
    """metric id -> {value, unit, rel_ci}: what a baseline keeps of a run's results."""
    return {m['id']: {'value': m['value'], 'unit': m['unit'], 'rel_ci': m.get('rel_ci')}
            for g in results['groups'] for m in g['metrics']}


def baseline_for(store: dict, key: str) -> dict | None:
    """The baseline entry of machine `key`, or None."""
    return store['machines'].get(key)


def record(store: dict, key: str, results: dict, keep_existing: bool = False) -> dict:
    """A new store whose entry for `key` holds the metrics of the run `results`; other machines untouched.

    Metrics the run did not measure stay as they were. `keep_existing` (what `bench` does on its own): only add
    metrics the entry lacks, never change a stored value; otherwise (`bench_baseline`) the run's values win.
    """
    machines = dict(store['machines'])
    entry = machines.get(key)
    stored = entry['metrics'] if entry else {}
    measured = metrics_of(results)
    merged = {**measured, **stored} if keep_existing else {**stored, **measured}
    if entry and keep_existing:
        machines[key] = {**entry, 'metrics': dict(sorted(merged.items()))}
    else:
        machines[key] = {'fingerprint': results['fingerprint'], 'commit': results['commit'],
                         'recorded': results['created'], 'metrics': dict(sorted(merged.items()))}
    return {'format': FORMAT, 'machines': dict(sorted(machines.items()))}
