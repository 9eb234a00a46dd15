"""A component's publish record across runs: the first run's facts stay, each rerun adds its own.

A run that fails after an earlier one uploaded, served or verified the same files must not erase those facts
(the report would show "-" where the index says otherwise), and a resumed run must show what it did itself.
So the record's times are the earliest known for this version and these files, and `history` lists every run's
own status, times and error, oldest first.
"""
from __future__ import annotations

FACTS = ('uploaded', 'served', 'verified', 'tagged')
ATTEMPT_KEYS = ('run', 'status', *FACTS, 'tag', 'error')


def attempt(record: dict) -> dict:
    """What one run did, as it did it."""
    return {key: record.get(key) for key in ATTEMPT_KEYS}


def same_release(previous: dict | None, record: dict) -> bool:
    """Both records are of one version of one distribution on one index with the same files (a run that failed
    before it knew its files is taken to be of the same files)."""
    keys = ('dist', 'version', 'index')
    if not previous or any(previous.get(k) != record.get(k) for k in keys if k in previous or k in record):
        return False
    return not record.get('files') or not previous.get('files') or previous['files'] == record['files']


def merge_record(previous: dict | None, record: dict) -> dict:
    """`record` of this run, keeping the facts earlier runs of the same release established, with the history."""
    if not same_release(previous, record):
        return {**record, 'history': [attempt(record)]}
    history = list(previous.get('history') or [attempt(previous)])
    if history[-1].get('run') == record.get('run'):
        history.pop()   # the same run writes its record once more (a re-rendered report)
    history.append(attempt(record))
    merged = dict(record)
    for key in FACTS:
        merged[key] = next((h[key] for h in history if h.get(key)), None)
    merged['tag'] = record.get('tag') or previous.get('tag')
    merged['files'] = record.get('files') or previous.get('files') or []
    first = next((h['run'] for h in history if h.get('uploaded') or h.get('status') == 'published'), None)
    merged['run_published'] = previous.get('run_published') or first
    merged['history'] = history
    return merged
