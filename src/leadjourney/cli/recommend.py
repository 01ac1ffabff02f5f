"""The ``recommend`` command: ranked recommendations, the impact/effort matrix and the quick-win spec.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadjourney.cli import render
from leadjourney.cli.base import WorkspaceArg, app, console, err
from leadjourney.cli.selection import FromOption, PersonaOption, SourceOption, ToOption, selection
from leadjourney.cli.workspace_arg import open_workspace
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from leadjourney.reports.recommendations import Recommendations


@app.command("recommend")
def recommend_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Recommendations ranked by revenue at stake per hour, with quick wins (< 5 hours) flagged, the
    impact/effort matrix and the quick-win spec.

    Writes out/recommendations.md and .json, out/impact_effort.html (interactive, offline), .svg and .png.
    Example: [bold]leadjourney recommend acme-journey --from 2026-01-01[/bold]
    """
    from leadjourney.workflows import recommend

    ws = open_workspace(workspace)
    filters = selection(ws, date_from, date_to, source, persona)
    with render.progress_bar(err, "recommend") as progress:
        run = recommend(ws, filters, progress=progress)
    recs, files = run.result, run.files
    if as_json:
        print(recs.to_json())
        return
    console.print(recommendations_table(recs))
    spec = recs.quick_win_spec()
    if spec:
        console.print("Quick-win spec: " + "; ".join(terminal_text(r.title) for r in spec))
    for path in files:
        console.print(f"  written  {path}")


def recommendations_table(recs: Recommendations) -> Table:
    """The ranking, readable at 80 columns: the system and status under each title, money rounded."""
    from leadjourney.analysis.friction import money

    per = recs.friction.per if recs.friction is not None else "yr"
    table = Table(title=f"Recommendations ({recs.n_people:,} people; recoverable revenue per {per})",
                  title_justify="left")
    for name, justify in (("#", "right"), ("recommendation · system · status", "left"),
                          ("at stake", "right"), ("hours", "right"), ("per hour", "right"), ("quick\nwin", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    ranks = {x.id: x.rank for x in recs.items}
    for r in recs.items:
        revenue = money(r.revenue, recs.currency)
        if r.elsewhere:  # a friction row shared with a better-placed recommendation is counted there, once
            revenue += "\nshared: " + ", ".join(sorted({f"#{ranks.get(rid, '?')}" for _, rid in r.elsewhere}))
        table.add_row(str(r.rank), f"{terminal_text(r.title)}\n[dim]{terminal_text(r.system)} · {r.status}[/dim]", revenue,
                      f"{r.hours_low:g}-{r.hours_high:g}", money(r.score, recs.currency),
                      "yes" if r.quick_win else "")
    if not recs.items:
        table.add_row("-", "No rule fired (see out/recommendations.md, 'Rules checked')", "", "", "", "")
    rec = recs.reconciliation()
    table.caption = terminal_text(rec["text"]) + (f"\nWarning: {terminal_text(rec['deal_size_warning'])}."
                                           if rec["deal_size_warning"] else "")
    table.caption_justify = "left"
    return table
