"""``leadjourney pull``: fetch a system's records over its API, then ingest them.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadjourney.cli import render
from leadjourney.cli.base import app, console, err
from leadjourney.cli.workspace_arg import open_workspace
from leadjourney.connectors import SYSTEMS
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from leadjourney.connectors.pull import PullReport


@app.command("pull")
def pull_command(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder.")],
    system: Annotated[str, typer.Argument(help=f"The system: {', '.join(SYSTEMS)}.")],
    obj: Annotated[list[str] | None, typer.Option("--object", "-o", help="Only this object (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the objects and how many records a pull "
                                          "would fetch; change nothing.")] = False,
    full: Annotated[bool, typer.Option(help="Fetch everything again, not only what changed since the last pull.")] = False,
    then_ingest: Annotated[bool, typer.Option("--ingest/--no-ingest", help="Ingest the pulled records afterwards.")] = True,
) -> None:
    """Pull a system's records over its API (only what changed since the last pull), then ingest them.

    Credentials come from the environment variables named in \\[connectors.SYSTEM] of leadjourney.toml.
    Raw pages stay under pulls/SYSTEM/ as Parquet; the canonical files built from them are
    registered as \\[\\[sources]] and loaded like any export.

    Example: [bold]leadjourney pull acme-journey salesforce --dry-run[/bold]
    """
    from leadjourney.workflows import pull

    ws = open_workspace(workspace)
    with render.progress_bar(err, f"pull {system}") as progress:
        run = pull(ws, system, objects=list(obj or []), dry_run=dry_run, full=full, then_ingest=then_ingest,
                   progress=progress)
    report = run.pulled
    console.print(pull_table(report))
    if dry_run:
        console.print("Dry run: nothing was fetched or changed.")
        return
    for name, why in report.skipped.items():
        console.print(f"{terminal_text(name)}: not built ({terminal_text(why)})")
    if report.registered:
        console.print(f"Registered {', '.join(report.registered)} in {ws.config_path.name}.")
    if run.ingested is None:
        console.print(f"Next: leadjourney ingest {ws.root}")
        return
    render.print_ingest(console, run.ingested)


def pull_table(report: PullReport) -> Table:
    table = Table(title=f"Pull {report.system}" + (" (dry run)" if report.dry_run else ""), title_justify="left")
    table.add_column("object")
    table.add_column("since")
    if report.dry_run:
        table.add_column("would fetch", justify="right")
    else:
        table.add_column("fetched", justify="right")
        table.add_column("new", justify="right")
        table.add_column("up to")
    for o in report.objects:
        since = terminal_text(o.since or "the beginning")
        if report.dry_run:
            table.add_row(terminal_text(o.name), since, "?" if o.count is None else f"{o.count:,}")
        else:
            table.add_row(terminal_text(o.name), since, f"{o.fetched:,}", f"{o.stored:,}",
                          terminal_text(o.high_water or "-"))
    return table
