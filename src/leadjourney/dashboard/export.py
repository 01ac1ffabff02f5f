"""A self-contained static snapshot of the dashboard: one HTML file, plotly.js embedded, opens offline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import plotly.io as pio

from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.kpis import period_days
from leadjourney.analysis.report import Analysis
from leadjourney.dashboard import figures
from leadjourney.dashboard.app import CSS, comparison_table, trend_figure
from leadjourney.dashboard.data import View
from leadjourney.escape import html_text


def export_html(view: View, path: Path, *, title: str, shown: Filters | None = None,
                campaigns: str | None = None) -> Path:
    """Write the view's components to ``path``; the first figure carries plotly.js inline.

    ``shown`` is the selection as the page names it (owners pseudonymized, :meth:`DashboardData.owner_keys`);
    without it, the view's filters minus owners' names. ``campaigns``: the campaigns card's HTML
    (:func:`~leadjourney.dashboard.campaigns_card.card_html`), the last card.
    """
    a, labels = view.analysis, view.labels
    figs = [figures.funnel(a, labels), figures.time_in_stage(a, labels), figures.sources(a, labels=labels),
            figures.speed_to_lead(a, view.sla_minutes),
            figures.period_comparison(view.comparison, a, view.baseline, points=view.decline_points),
            trend_figure(view, "month")]
    divs = [pio.to_html(fig, full_html=False, include_plotlyjs=(i == 0), include_mathjax=False,
                        config={"displaylogo": False}) for i, fig in enumerate(figs)]
    fresh = f"{view.freshness:%Y-%m-%d %H:%M} UTC" if view.freshness else "no ingest yet"
    named = (shown or replace(view.filters, owners=tuple("owner" for _ in view.filters.owners))).to_dict()
    selection = ", ".join(f"{k}: {v}" for k, v in named.items() if v) or "all leads"
    kpis = figures.kpi_tiles(view.tiles, period_days(a), labels)
    cards = [f'<div class="card">{divs[0]}</div>', f'<div class="card">{divs[1]}</div>',
             f'<div class="card wide">{divs[2]}{_sources(a, labels)}</div>', f'<div class="card wide">{divs[5]}</div>',
             f'<div class="card">{divs[3]}</div>',
             f'<div class="card" id="baseline">{divs[4]}{comparison_table(view.comparison)}</div>',
             f'<div class="card wide"><details><summary>Friction ranking · '
             f'{html_text(figures.friction_summary(a))} · {html_text(figures.dark_text(a))}'
             f'</summary>{_table(figures.friction_rows(a, labels=labels))}</details></div>',
             *([f'<div class="card wide campaigns" id="campaigns-card">{campaigns}</div>'] if campaigns else [])]
    path.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html_text(title)}</title><style>{CSS}
</style></head><body>
<div class="header"><h1>{html_text(title)}</h1><span class="fresh">Snapshot · data as of {fresh} · {html_text(selection)}</span></div>
<div class="kpis">{kpis}</div><div class="grid">{''.join(cards)}</div>
</body></html>
""", "utf-8")
    return path


def _sources(a: Analysis, labels: Mapping[str, str]) -> str:
    columns = figures.source_columns(a)
    rows = [figures.source_cells(r, columns, labels) for r in figures.source_rows(a)]
    return figures.html_table([figures.column_header(c, labels) for c in columns], rows) if rows else "<p>-</p>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>-</p>"
    return figures.html_table(list(rows[0]), [[str(v) for v in r.values()] for r in rows])
