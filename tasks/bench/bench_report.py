"""The benchmark report: the template's context (pure), the chart of current against reference, the rendering."""
from __future__ import annotations

import os
from pathlib import Path

from tasks.bench.bench_gate import CRITICAL, MAJOR, Row
from tasks.bench.fingerprint import describe
from tasks.core import files, reporting

TEMPLATE = 'bench-report.md.j2'
CLASS_MARK = {'critical': '**critical**', 'major': '**major** (investigate)', 'minor': 'minor', 'faster': 'faster',
              'unchanged': 'unchanged', 'new': 'new'}
CLASS_COLOUR = {'critical': '#c62828', 'major': '#ef6c00', 'minor': '#f9a825', 'unchanged': '#9e9e9e',
                'faster': '#2e7d32', 'new': '#90a4ae'}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return '–'
    if unit.startswith('instructions'):
        return f'{value:,.0f}'
    return f'{value:.3g}×'


def format_change(row: Row) -> str:
    if row.change is None:
        return '–'
    ci = f' ±{row.ci:.1%}' if row.ci is not None else ''
    return f'{row.change:+.1%}{ci}'


def format_class(row: Row) -> str:
    return CLASS_MARK[row.cls] + (' (uncertain)' if row.uncertain else '')


def _row_view(row: Row) -> dict:
    return {**row.as_dict(), 'current_s': format_value(row.current, row.unit),
            'reference_s': format_value(row.reference, row.unit), 'change_s': format_change(row),
            'class_s': format_class(row)}


def ratio_lines(results: dict) -> list[tuple[str, str]]:
    """(measurement, ratio) rows: every metric measured against numpy or the bandwidth probe, and the scan rates."""
    out = []
    for g in results['groups']:
        for m in g['metrics']:
            if m['unit'] in ('time ratio to numpy', 'time ratio to a read'):
                ci = f" ±{m['rel_ci']:.0%}" if m.get('rel_ci') is not None else ''
                out.append((f"{m['label']} ({m['unit']})", f"{m['value']:.3g}×{ci}"))
    r = results.get('ratios') or {}
    if r:
        out.append(('measured read bandwidth', f"{r['bandwidth_gb_per_s']:.1f} GB/s"))
        out.append(('codebook scan rate', f"{r['scan_gb_per_s']:.1f} GB/s "
                                          f"({r['scan_fraction_of_bandwidth']:.0%} of the bandwidth limit)"))
    return out


def context(results: dict, gate: dict, rows: list[Row], stored: dict | None, chart: str) -> dict:
    """Everything the template shows, values already formatted; `stored`: the optional stored-baseline comparison."""
    views = [_row_view(r) for r in rows]
    groups = []
    for g in results['groups']:
        mine = [v for v in views if v['group'] == g['name']]
        groups.append({'name': g['name'], 'title': g['title'], 'notes': g.get('notes', []), 'rows': mine,
                       'units': sorted({v['unit'] for v in mine})})
    slower = sorted((v for v in views if v['cls'] in ('critical', 'major', 'minor')), key=lambda v: -v['change'])
    stored = dict(stored or {})
    if stored.get('rows'):
        stored['slower'] = [_row_view(r) for r in stored['rows'] if r.cls in ('critical', 'major')]
    return {
        'results': results, 'gate': gate, 'machine': describe(results['fingerprint']),
        'reference': results.get('reference') or {}, 'stored': stored,
        'chart': chart, 'groups': groups, 'slower': slower, 'thresholds': gate['thresholds'],
        'changelog': [v for v in views if v['cls'] in ('minor', 'faster')], 'ratios': ratio_lines(results),
    }


def render(ctx: dict) -> str:
    return reporting.render(TEMPLATE, ctx)


def chart(rows: list[Row], target: Path, title: str) -> None:
    """Bars of current / reference per metric (1.0 = reference), coloured by class; SVG or PNG by suffix, atomically."""
    import matplotlib
    matplotlib.use('Agg')  # no display: render to a file
    import matplotlib.pyplot as plt

    from matplotlib.patches import Patch

    shown = [r for r in rows if r.change is not None] or rows
    changes = [r.change or 0.0 for r in shown]
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.28 * len(shown)))
    # bars grow from 1.0 (the reference): right is slower, left is faster
    ax.barh(range(len(shown)), changes, left=1.0, color=[CLASS_COLOUR[r.cls] for r in shown],
            xerr=[r.ci or 0.0 for r in shown], error_kw={'elinewidth': 0.8, 'capsize': 2})
    for y, (row, change) in enumerate(zip(shown, changes)):
        if row.change is not None:
            ax.annotate(f'{change:+.1%}', (1.0 + change, y), xytext=(4 if change >= 0 else -4, 0),
                        textcoords='offset points', va='center', ha='left' if change >= 0 else 'right', fontsize=7)
    for x, style in ((1.0, '-'), (1.0 + MAJOR, ':'), (1.0 + CRITICAL, '--')):
        ax.axvline(x, color='black', linestyle=style, linewidth=0.8)
    ax.set_yticks(range(len(shown)), [r.id for r in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(min([*changes, -0.1]) + 0.95, max([*changes, 0.15]) + 1.05)
    ax.set_xlabel('current / reference (lower is faster; dotted = major, dashed = critical; whiskers = 95% interval)')
    used = [c for c in CLASS_COLOUR if any(r.cls == c for r in shown)]
    ax.legend(handles=[Patch(color=CLASS_COLOUR[c], label=c) for c in used], fontsize=7, loc='lower right')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fd, tmp = files.temporary_beside(target)
    os.close(fd)
    try:
        svg = target.suffix != '.png'
        fig.savefig(tmp, format='svg' if svg else 'png', metadata={'Date': None} if svg else None)
        os.replace(tmp, target)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)
