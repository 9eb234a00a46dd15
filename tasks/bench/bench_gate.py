"""The benchmark gate's pure logic: classify each change of the current tree against its reference, decide.

The reference is the last release measured in the same run (`compare_ab`); a baseline stored for this machine
can be compared too (`compare`), as an extra that never decides the verdict.

Every metric is a cost (lower is better): instructions per call, or a time ratio against a reference measured
in the same run. The classes are the release plan's:

- critical: more than 10% slower. Fails the gate and so blocks `publish`.
- major:    5 to 10% slower. Passes, listed as needing investigation.
- minor:    up to 5% slower. Listed for the changelog.
- faster:   more than `NOISE_FLOOR` faster. Reported.
- unchanged: within `NOISE_FLOOR` either way.

A wall-clock metric carries a relative confidence half-width (`rel_ci`). It is only called critical when its whole
interval lies above the critical line (change - ci > 10%); a change over 10% whose interval reaches below it is
reported as major and marked uncertain, so a noisy machine cannot fail the gate by chance (on the shared machine,
separate runs of one timed kernel were seen to differ by up to 15%). Instruction counts carry no interval: they are
repeatable, so their point estimate decides.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping

CRITICAL = 0.10      # slower by more than this fails the gate
MAJOR = 0.05         # slower by more than this needs investigation
NOISE_FLOOR = 0.01   # smaller changes either way are reported as unchanged
CLASSES = ('critical', 'major', 'minor', 'unchanged', 'faster', 'new')


@dataclass(frozen=True)
class Row:
    """One metric of the current tree set against its reference (the last release, or a stored baseline)."""
    id: str
    group: str
    label: str
    unit: str
    current: float
    reference: float | None
    change: float | None        # current / reference - 1; positive is slower
    ci: float | None            # half-width of the change's confidence interval (relative), None if exact
    cls: str
    uncertain: bool = False     # the interval reaches below the critical line (critical) or zero (others)

    def as_dict(self) -> dict:
        return asdict(self)


def classify(change: float, ci: float | None = None) -> tuple[str, bool]:
    """The class of a relative change (positive = slower), and whether it is uncertain.

    Uncertain: a change over the critical line whose interval reaches below it (demoted to major), or any other
    change whose interval reaches zero (it may be no change at all).
    """
    if change > CRITICAL:
        if ci is not None and change - ci <= CRITICAL:
            return 'major', True
        return 'critical', False
    noisy = ci is not None and abs(change) <= ci
    if change > MAJOR:
        return 'major', noisy
    if change > NOISE_FLOOR:
        return 'minor', noisy
    if change < -NOISE_FLOOR:
        return 'faster', noisy
    return 'unchanged', False


def change_ci(current_rel_ci: float | None, baseline_rel_ci: float | None, ratio: float) -> float | None:
    """Half-width of current/baseline - 1 from the two relative half-widths (first-order error propagation)."""
    if current_rel_ci is None and baseline_rel_ci is None:
        return None
    return ratio * math.hypot(current_rel_ci or 0.0, baseline_rel_ci or 0.0)


def compare(metrics: Iterable[Mapping], baseline: Mapping[str, Mapping] | None) -> list[Row]:
    """Rows for every current metric; `baseline` maps metric id -> recorded metric (None: no baseline yet).

    A metric absent from the baseline, or recorded in another unit (another measuring method), is `new`.
    """
    rows = []
    for m in metrics:
        base = (baseline or {}).get(m['id'])
        if not base or base.get('unit') != m['unit'] or not base.get('value'):
            rows.append(Row(m['id'], m['group'], m['label'], m['unit'], m['value'], None, None, None, 'new'))
            continue
        ratio = m['value'] / base['value']
        ci = change_ci(m.get('rel_ci'), base.get('rel_ci'), ratio)
        cls, uncertain = classify(ratio - 1.0, ci)
        rows.append(Row(m['id'], m['group'], m['label'], m['unit'], m['value'], base['value'], ratio - 1.0, ci,
                        cls, uncertain))
    return rows


def compare_ab(metrics: Iterable[Mapping]) -> list[Row]:
    """Rows for the metrics of a same-run A/B comparison, each carrying its `reference`, `change`, `change_ci`.

    A metric the reference did not measure (a case newer than the release) is `new`.
    """
    rows = []
    for m in metrics:
        if m.get('change') is None:
            rows.append(Row(m['id'], m['group'], m['label'], m['unit'], m['value'], None, None, None, 'new'))
            continue
        cls, uncertain = classify(m['change'], m.get('change_ci'))
        rows.append(Row(m['id'], m['group'], m['label'], m['unit'], m['value'], m.get('reference'), m['change'],
                        m.get('change_ci'), cls, uncertain))
    return rows


def counts(rows: Iterable[Row]) -> dict[str, int]:
    out = dict.fromkeys(CLASSES, 0)
    for row in rows:
        out[row.cls] += 1
    return out


def verdict(rows: list[Row], current: str = '', reference: Mapping | None = None) -> dict:
    """The gate's JSON: top-level `verdict` and one-line `summary` naming both commits, then the classified rows.

    `reference`: {'commit': sha, 'how': the rule that chose it}.
    """
    n = counts(rows)
    reference = dict(reference or {})
    worst = sorted((r for r in rows if r.cls in ('critical', 'major')), key=lambda r: -(r.change or 0))
    summary = (f"{n['critical']} critical, {n['major']} major, {n['minor']} minor, {n['faster']} faster, "
               f"{n['unchanged']} unchanged, {n['new']} new of {len(rows)} metrics")
    if current or reference:
        summary += f" ({current[:12] or 'current'} against {reference.get('commit', '?')[:12]})"
    if worst:
        summary += f'; worst: {worst[0].id} {worst[0].change:+.1%}'
    return {
        'verdict': 'fail' if n['critical'] else 'pass',
        'summary': summary,
        'current': current,
        'reference': reference,
        'counts': n,
        'thresholds': {'critical': CRITICAL, 'major': MAJOR, 'noise_floor': NOISE_FLOOR},
        'critical': [r.id for r in rows if r.cls == 'critical'],
        'needs_investigation': [r.id for r in rows if r.cls == 'major'],
        'changelog': [r.id for r in rows if r.cls in ('minor', 'faster')],
        'rows': [r.as_dict() for r in rows],
    }
