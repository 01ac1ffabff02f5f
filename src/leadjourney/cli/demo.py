"""`leadjourney demo`: the whole product on generated data, from an empty folder to every deliverable.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.cli import render
from leadjourney.cli.app import (
    WorkspaceArg,
    app,
    check_quality,
    console,
    err,
    generate_into,
    ingest_sources,
    show_ingest,
)
from leadjourney.escape import terminal_text
from leadjourney.workspace import Workspace

if TYPE_CHECKING:
    from leadjourney.generate import Scenario
    from leadjourney.journeymap.make import MapRun

DEMO_DECLINE_FACTOR = 0.6  # the planted MQL->SQL decline: 60% of the usual conversion probability


@app.command()
def demo(
    workspace: WorkspaceArg = Path("demo-workspace"),
    leads: Annotated[int, typer.Option(min=100, help="Number of generated leads.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Run the whole product on generated data: init, generate, ingest, quality, analyze, and the journey
    map with its touchpoint inventory, personas and paths.

    Example: [bold]leadjourney demo /tmp/demo --leads 100000[/bold]
    """
    started = datetime.now()
    ws = Workspace.init(workspace, exist_ok=True)
    console.rule(f"[bold]leadjourney demo[/bold] in {ws.root}")
    scenario = demo_scenario(ws, datetime.now(UTC).date())
    generate_into(ws, leads=leads, seed=seed, days=180, end=None, file_format="parquet", clean=False,
                  scenario=scenario)
    report = ingest_sources(ws, force=True, prune=True)
    show_ingest(report)
    q = check_quality(ws)
    console.print(render.quality_table(q))
    from leadjourney.analysis import analyze

    with render.progress_bar(err, "analyze") as progress:
        result = analyze(ws, progress=progress)
    (ws.out_dir / "analysis.md").write_text(result.to_markdown(), "utf-8")
    (ws.out_dir / "analysis.json").write_text(result.to_json(), "utf-8")
    from leadjourney.analysis.findings import store

    store(ws, result, baseline=True)
    console.print(render.funnel_table(result))
    console.print(render.time_table(result))
    for line in render.headlines(result):
        console.print(terminal_text(line))
    console.print(render.friction_table(result))
    for line in render.friction_lines(result):
        console.print(line)
    _demo_journey_map(ws, scenario)
    elapsed = (datetime.now() - started).total_seconds()
    console.rule("[bold]What was written[/bold]")
    console.print(f"  workspace  {ws.root}")
    console.print(f"  config     {ws.config_path}")
    console.print(f"  database   {ws.database_path}")
    for path in sorted(p for p in ws.out_dir.rglob("*") if p.is_file()):
        console.print(f"  output     {path}")
    console.print(f"Done in {elapsed:.1f} s. Open out/journey_map.html, out/analysis.md and out/quality.md, "
                  "or query the database with DuckDB (see README).")


def _demo_journey_map(ws: Workspace, scenario: Scenario) -> None:
    """The demo's second half: the map and what it is drawn from (touchpoints, personas, paths), the
    recommendations, the lead stage definitions, the documentation package, a static dashboard snapshot, a
    monitor pass and the engagement status."""
    from leadjourney.cli.recommend import recommendations_table
    from leadjourney.journeymap.make import make_map
    from leadjourney.reports import recommendations as recs_module
    from leadjourney.reports.definitions import definitions_document, write_document

    with render.progress_bar(err, "journey map") as progress:  # the map and the tables behind it, one run
        run = make_map(ws, tables=True, progress=progress)
    assert run.paths is not None
    recs = recs_module.recommendations_for(ws, run.analysis)
    recs.write(ws.out_dir)
    write_document(definitions_document(ws), ws.out_dir)
    console.print(render.persona_table(run.profiles))
    console.print(render.paths_table(run.paths))
    console.print(recommendations_table(recs))
    from leadjourney.reports.package import build_report
    from leadjourney.reports.status import engagement_status, write_status

    with render.progress_bar(err, "report") as progress:
        build_report(ws, progress=progress).write(ws.out_dir / "report")
    from leadjourney.analysis.journeys import Filters
    from leadjourney.dashboard import DashboardData, export_html

    export_html(DashboardData(ws).view(Filters()), ws.out_dir / "dashboard.html",
                title=f"{ws.config.name}: lead journey")
    _demo_monitor(ws, scenario)
    status = engagement_status(ws)
    write_status(status, ws.out_dir)
    gate = status.next_gate
    if gate is not None:
        console.print(f"Engagement status: next gate {terminal_text(gate.title)}, blocked by "
                      + ", ".join(s.item.id for s in gate.blockers) + " (see out/status.md).")
    jm = run.journey_map
    console.print(f"Journey map: {len(jm.drop_offs)} drop-off point(s) flagged red, {len(jm.personas)} persona "
                  f"lane(s); biggest friction: " + (terminal_text(_biggest(run)) if run.analysis.friction.rows else "-"))


def demo_scenario(ws: Workspace, end: date) -> Scenario:
    """The demo's planted decline: MQL->SQL conversion down by 40% for leads created from the month before
    the first one the monitor judges on ``end`` (MQL->SQL may wait a few days longer than maturity_days),
    so its monthly run has two declining months to flag whatever the day of the month."""
    from leadjourney.generate import Decline, Scenario
    from leadjourney.monitor import judged_periods

    s = ws.config.monitor
    first = judged_periods("month", end, s.consecutive_periods, s.maturity_days)[0].previous()
    return Scenario(declines=(Decline(first.start, "MQL->SQL", DEMO_DECLINE_FACTOR),))


def _demo_monitor(ws: Workspace, scenario: Scenario) -> None:
    """A monitor pass against a post-project baseline (the leads created before the planted decline):
    the verdict table, the period report and the run as JSON."""
    from leadjourney.analysis import analyze
    from leadjourney.analysis.findings import store
    from leadjourney.analysis.journeys import Filters
    from leadjourney.cli.monitor import verdict_table
    from leadjourney.monitor import run_monitor

    since = scenario.declines[0].since
    store(ws, analyze(ws, filters=Filters(None, since - timedelta(days=1))), baseline=True, findings=False)
    monitored = run_monitor(ws)
    (ws.out_dir / "monitor.json").write_text(monitored.to_json(), "utf-8")
    console.rule(f"[bold]Monitor[/bold]: baseline = leads created before {since}; planted: MQL->SQL x"
                 f"{DEMO_DECLINE_FACTOR:g} for leads created from {since}")
    console.print(verdict_table(monitored, raised_only=True, evidence=False))
    console.print(f"Monitor {monitored.period.label}: {monitored.status} "
                  f"({sum(v.raised for v in monitored.verdicts)} red flag(s) of {len(monitored.verdicts)} checks; "
                  f"all in out/monitor.json; period report {monitored.reports[0].relative_to(ws.root)}).")


def _biggest(run: MapRun) -> str:
    from leadjourney.analysis.friction import money

    fr = run.analysis.friction
    top = fr.rows[0]
    value = (f"{money(top.recoverable_per_year, fr.currency)}/{fr.per} recoverable"
             if top.recoverable_per_year is not None else top.status.text())
    bookings = money(fr.bookings_per_year, fr.currency) if fr.bookings_per_year is not None else "-"
    return f"{top.label}, {value} (bookings {bookings}/{fr.per})"
