"""``leadjourney monitor``: the maintenance schedule's period checks, red flags and alerts; exit 0/1/2.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadjourney.cli.base import WorkspaceArg, app, console
from leadjourney.cli.selection import EngineOption
from leadjourney.cli.workspace_arg import (
    WorkspaceAlias,
    chosen_workspace,
    group_settings,
    open_workspace,
)
from leadjourney.dates import parse_date
from leadjourney.errors import LeadJourneyError, MonitorError
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from leadjourney.monitor import MonitorRun

monitor_app = typer.Typer(**group_settings(
    short_help="Ongoing monitoring: period metrics vs the baseline, red flags, refinement triggers, alerts. Exit 0 "
               "healthy, 1 red flags, 2 could not run."))
app.add_typer(monitor_app, name="monitor")

@monitor_app.callback()
def monitor_run(
    ctx: typer.Context,
    workspace: WorkspaceArg = Path("."),
    alias: WorkspaceAlias = None,
    period: Annotated[str, typer.Option(help="month or quarter.")] = "month",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge as of this date (YYYY-MM-DD; default today).")]
    = None,
    notify: Annotated[bool, typer.Option("--notify", help="Send new red flags by the \\[alerts] channels (none "
                                         "configured: exit 2, nothing run).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    engine: EngineOption = None,
) -> None:
    """Ongoing monitoring: the latest judged period against the baseline, red flags, refinement triggers,
    alerts; each run writes out/monitor/<period>.md and .html. Exit 0 healthy, 1 red flags, 2 could not run
    (the reason on one line on stderr; also --notify with no \\[alerts] channel configured).

    Example: [bold]leadjourney monitor acme-journey[/bold] (the latest mature month);
    [bold]leadjourney monitor acme-journey --period quarter --as-of 2026-07-01[/bold];
    [bold]leadjourney monitor acme-journey implemented sla_alert:MQL->SQL --on 2026-05-01[/bold];
    [bold]leadjourney monitor acme-journey history[/bold]. Cron, on the 2nd of each month:
    [bold]0 7 2 * * leadjourney monitor /srv/acme-journey --notify[/bold]
    """
    with could_not_run():
        workspace = chosen_workspace(workspace, alias)
        ctx.obj = workspace
        if ctx.invoked_subcommand is not None:
            return
        from leadjourney.workflows import open_workspace, run_monitor

        run = run_monitor(open_workspace(workspace, engine), period, as_of, notify)
    if as_json:
        print(run.to_json())
        raise typer.Exit(run.exit_code)
    from leadjourney.monitor.readable import ranked

    labels = open_workspace(workspace).config.labels
    console.print(verdict_table(run, labels=labels))
    todo = [r for r in ranked(run.verdicts, labels) if r.verdict.raised and r.verdict.action]
    if todo:
        steps = Table(title="What to do", title_justify="left", box=None, show_header=False, pad_edge=False,
                      padding=(0, 1, 0, 0))
        steps.add_column("", no_wrap=True)
        steps.add_column("step", overflow="fold")
        for r in todo:
            steps.add_row(f"[{r.color}]•[/]", f"[bold]{terminal_text(r.subject)}[/bold]: {terminal_text(r.verdict.action)}")
        console.print(steps)
    for path in run.reports:
        console.print(f"  written  {terminal_text(str(path))}")
    for f in run.earlier_failures:
        console.print(f"[yellow]undelivered alert[/yellow] of run {f['run_id']} via {f['channel']}: "
                      f"{terminal_text(str(f['error']))}")
    for d in run.deliveries:
        state = "sent" if d.ok else f"[red]FAILED[/red] after {d.attempts} attempt(s): {terminal_text(str(d.error))}"
        console.print(f"alert via {d.channel}: {state}")
    if notify and not run.deliveries:
        console.print("alerts: nothing new to send (no red flag new, escalated or cleared since the last alert)")
    console.print(f"[bold]{run.status.replace('_', ' ')}[/bold] (exit {run.exit_code})")
    raise typer.Exit(run.exit_code)


@monitor_app.command("history")
def monitor_history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """Past monitor runs, newest first, with their red flags and any alert that could not be delivered.

    Example: [bold]leadjourney monitor acme-journey history --limit 5[/bold]
    """
    from leadjourney.monitor import history

    with could_not_run():
        runs = history(open_workspace(ctx.obj), limit)
    if as_json:
        print(json.dumps(runs, indent=2))
        return
    table = Table(title="Monitor runs", title_justify="left")
    for col in ("run", "started", "period", "as of", "status", "raised", "alerts"):
        table.add_column(col)
    for r in runs:
        raised = [v["key"] for v in r["verdicts"] if v["status"] in ("red_flag", "refinement_trigger",
                                                                       "cannot_compute")]
        alerts = [f"{d['channel']} ok" for d in r["deliveries"] if d["ok"]]
        alerts += [f"{d['channel']} FAILED: {d['error']}" for d in r["failed_deliveries"]]
        table.add_row(str(r["run_id"]), r["started_at"], r["period"]["label"], r["as_of"], r["status"],
                      terminal_text(", ".join(raised) or "-"), terminal_text("; ".join(alerts) or "-"))
    console.print(table)


@monitor_app.command("implemented")
def monitor_implemented(
    ctx: typer.Context,
    rec_id: Annotated[str, typer.Argument(help="The recommendation's id, as out/recommendations.json lists it.")],
    on: Annotated[str, typer.Option("--on", help="The day it went live (YYYY-MM-DD).")],
    note: Annotated[str | None, typer.Option(help="What was changed, where.")] = None,
) -> None:
    """Record that a recommendation was implemented; \\[monitor] impact_cycle_days later, every run checks
    whether the metric it should move moved.

    Example: [bold]leadjourney monitor acme-journey implemented sla_alert:MQL->SQL --on 2026-05-01[/bold]
    """
    from leadjourney.monitor.impact import mark_implemented

    with could_not_run():
        day = parse_date(on, "--on")
        assert day is not None  # --on is required
        ws = open_workspace(ctx.obj)
        imp = mark_implemented(ws, rec_id, day, note)
    due = imp.implemented_on + timedelta(days=ws.config.monitor.impact_cycle_days)
    console.print(f"{terminal_text(imp.rec_id)}: implemented {imp.implemented_on}; the monitor checks "
                  f"{terminal_text(imp.metric_key)} from {due}")


def verdict_table(run: MonitorRun, raised_only: bool = False, labels: Mapping[str, str] | None = None) -> Table:
    """The run's verdicts (or only the raised ones and reminders), the most urgent first: a coloured status word
    and "what was checked: why" on one line each, wrapped at words to the terminal's width (the evidence is in
    the period report and ``--json``)."""
    from leadjourney.monitor.readable import headline, period_name, ranked

    p = run.period
    table = Table(title=f"Monitor {period_name(p.label)}: {terminal_text(headline(run.verdicts))} "
                        f"(leads created {p.start} to {p.end}, as of {run.as_of}; run {run.run_id})",
                  title_justify="left", box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("status", no_wrap=True)
    table.add_column("check", overflow="fold")
    for r in ranked(run.verdicts, labels):
        if raised_only and not r.verdict.notified:
            continue
        table.add_row(f"[bold {r.color}]{terminal_text(r.label)}[/]",
                      f"[bold]{terminal_text(r.subject)}[/bold]: {terminal_text(r.reason)}")
    return table


@contextmanager
def could_not_run() -> Iterator[None]:
    """Any error of a monitor command is "could not run": a :class:`MonitorError` (exit 2, one line on stderr
    from the entry point), so a cron job tells it from red flags (exit 1)."""
    try:
        yield
    except MonitorError:
        raise
    except LeadJourneyError as exc:
        raise MonitorError(str(exc)) from exc
