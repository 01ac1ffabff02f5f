"""`leadjourney demo`: the whole product on generated data, from an empty folder to every deliverable.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.cli import render
from leadjourney.cli.base import WorkspaceArg, app, console, err
from leadjourney.display import counted, row_name
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from leadjourney.workflows import DemoRun
    from leadjourney.workflows.journey_map import MapRun


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
    from leadjourney.workflows import run_demo

    started = datetime.now()
    console.rule(f"[bold]leadjourney demo[/bold] in {workspace.resolve()}")
    with render.progress_bar(err, "demo") as progress:
        run = run_demo(workspace, leads=leads, seed=seed, progress=progress)
    _show(run)
    elapsed = (datetime.now() - started).total_seconds()
    ws = run.workspace
    console.rule("[bold]What was written[/bold]")
    console.print(f"  workspace  {ws.root}")
    console.print(f"  config     {ws.config_path}")
    console.print(f"  database   {ws.database_path}")
    for path in run.files:
        console.print(f"  output     {path}")
    console.print(f"Done in {elapsed:.1f} s. Open out/journey_map.html, out/analysis.md and out/quality.md, "
                  "or query the database with DuckDB (see README).")


def _show(run: DemoRun) -> None:
    """What each step produced, in the order the steps ran."""
    from leadjourney.cli.monitor import verdict_table
    from leadjourney.cli.recommend import recommendations_table
    from leadjourney.workflows.demo import DEMO_DECLINE_FACTOR

    render.print_ingest(console, run.ingest)
    console.print(render.quality_table(run.quality.report))
    render.print_analysis(console, run.analysis.analysis, run.workspace.config.labels)
    assert run.map.paths is not None
    console.print(render.persona_table(run.map.profiles, run.workspace.config.labels))
    console.print(render.paths_table(run.map.paths))
    console.print(recommendations_table(run.recommendations))
    monitored, since = run.monitor, run.scenario.declines[0].since
    console.rule(f"[bold]Monitor[/bold]: baseline = leads created before {since}; planted: MQL->SQL x"
                 f"{DEMO_DECLINE_FACTOR:g} for leads created from {since}")
    console.print(verdict_table(monitored, raised_only=True, labels=run.workspace.config.labels))
    console.print(f"Monitor {monitored.period.label}: {counted(len(monitored.verdicts), 'check')}, all in "
                  f"out/monitor.json; period report {monitored.reports[0].relative_to(run.workspace.root)}.")
    gate = run.status.next_gate
    if gate is not None:
        console.print(f"Engagement status: next gate {terminal_text(gate.title)}, blocked by "
                      + ", ".join(s.item.id for s in gate.blockers) + " (see out/status.md).")
    jm = run.map.journey_map
    console.print(f"Journey map: {counted(len(jm.drop_offs), 'drop-off point')} flagged red, "
                  f"{counted(len(jm.personas), 'persona lane')}; biggest friction: " + (terminal_text(_biggest(run.map, run.workspace.config.labels)) if run.map.analysis.friction.rows
                                                     else "-"))


def _biggest(run: MapRun, labels: Mapping[str, str]) -> str:
    from leadjourney.analysis.friction import money

    fr = run.analysis.friction
    top = fr.rows[0]
    value = (f"{money(top.recoverable_per_year, fr.currency)}/{fr.per} recoverable"
             if top.recoverable_per_year is not None else top.status.text())
    bookings = money(fr.bookings_per_year, fr.currency) if fr.bookings_per_year is not None else "-"
    name = row_name(top.from_stage, top.to_stage, top.segment, labels)
    return f"{name}, {value} (bookings {bookings}/{fr.per})"
