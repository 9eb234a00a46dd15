"""Geometry for the dashboard's SVG pictures as plain data (the template only draws it): the package graph by
level and the publish timeline. Pure functions of their inputs, so tests check coordinates without a browser."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 150, 40, 60, 16, 12

#: (label, record key) of each publish step, in the order a release goes through them.
STEPS = (('build', 'built'), ('upload', 'uploaded'), ('index visible', 'served'), ('verified', 'verified'),
         ('tagged', 'tagged'))
LABEL_W, AXIS_W, BAR_H, BAR_GAP = 110, 560, 18, 8


def graph_layout(levels: Mapping[str, int], deps: Mapping[str, tuple[str, ...]],
                 labels: Mapping[str, str] | None = None) -> dict:
    """One column per level (0 at the left), a box per package, an edge from each package to each dependency."""
    labels = labels or {}
    columns: dict[int, list[str]] = {}
    for name in levels:
        columns.setdefault(levels[name], []).append(name)
    rows = max((len(c) for c in columns.values()), default=0)
    nodes, where = [], {}
    for level in sorted(columns):
        for i, name in enumerate(columns[level]):
            x, y = PAD + level * (NODE_W + COL_GAP), PAD + 20 + i * (NODE_H + ROW_GAP)
            where[name] = (x, y)
            nodes.append({'name': name, 'label': labels.get(name, name), 'level': level, 'x': x, 'y': y,
                          'w': NODE_W, 'h': NODE_H})
    edges = [{'src': name, 'dst': dep, 'x1': where[name][0], 'y1': where[name][1] + NODE_H / 2,
              'x2': where[dep][0] + NODE_W, 'y2': where[dep][1] + NODE_H / 2}
             for name in levels for dep in deps.get(name, ()) if dep in where]
    heads = [{'level': lv, 'x': PAD + lv * (NODE_W + COL_GAP), 'y': PAD + 10} for lv in sorted(columns)]
    width = PAD * 2 + (max(columns, default=0) + 1) * (NODE_W + COL_GAP) - COL_GAP
    return {'width': width, 'height': PAD * 2 + 20 + rows * (NODE_H + ROW_GAP), 'nodes': nodes, 'edges': edges,
            'heads': heads}


def parse_stamp(text: object) -> float | None:
    """Seconds since the epoch of a report's UTC stamp (`2026-12-04T19:05:10.283Z`), None when absent or odd."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace('Z', '+00:00')).timestamp()
    except ValueError:
        return None


def timeline(records: list[dict]) -> dict:
    """A bar per package on one time axis: each step a segment from the previous known step to its own time.

    A step without a time (not reached, or skipped because it was done before) draws nothing; the first known
    step of a package draws a tick, since nothing before it says when it began."""
    times = {r['component']: [(label, parse_stamp(r.get(key))) for label, key in STEPS] for r in records}
    known = [t for steps in times.values() for _, t in steps if t is not None]
    t0, t1 = (min(known), max(known)) if known else (0.0, 0.0)
    span = max(t1 - t0, 1e-3)

    def x(t: float) -> float:
        return round(LABEL_W + (t - t0) / span * AXIS_W, 2)

    rows = []
    for i, record in enumerate(records):
        y, previous, segments = 24 + i * (BAR_H + BAR_GAP), None, []
        for step, (label, t) in enumerate(times[record['component']]):
            if t is None:
                continue
            start = x(previous) if previous is not None else x(t) - 3
            segments.append({'step': label, 'css': f'step{step}', 'x': start, 'w': max(x(t) - start, 3),
                             'at': record.get(STEPS[step][1])})
            previous = t
        rows.append({'name': record['component'], 'status': record.get('status', ''), 'y': y, 'segments': segments})
    ticks = [{'x': x(t0 + span * k / 4), 'label': f'+{span * k / 4:.1f} s'} for k in range(5)] if known else []
    return {'width': LABEL_W + AXIS_W + 60, 'height': 40 + len(records) * (BAR_H + BAR_GAP), 'rows': rows,
            'ticks': ticks, 'has_times': bool(known), 'steps': [label for label, _ in STEPS],
            'start': min((r.get(k) for r in records for _, k in STEPS if parse_stamp(r.get(k)) == t0), default=None)
            if known else None}
