"""The ``leadjourney`` command: thin wiring of the workflows, nothing computed here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.cli import render
from leadjourney.cli.base import WorkspaceArg, app, console, err, one_line_summaries
from leadjourney.cli.selection import (
    EngineOption,
    FromOption,
    OwnerOption,
    PersonaOption,
    SourceOption,
    ToOption,
    parse_date,
    selection,
)
from leadjourney.cli.workspace_arg import (
    WorkspaceAlias,
    chosen_workspace,
    group_settings,
    open_workspace,
)
from leadjourney.display import arrows
from leadjourney.errors import InterruptedAfterCommit
from leadjourney.escape import terminal_text
from leadjourney.interrupts import quiet_pyarrow_signals
from leadjourney.schema import SOURCE_FORMATS

if TYPE_CHECKING:
    from leadjourney.workflows import Generated

__all__ = ["WorkspaceArg", "app", "console", "err"]


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
) -> None:
    """Create a workspace: a commented leadjourney.toml, an empty database and out/.

    Example: [bold]leadjourney init acme-journey[/bold]
    """
    from leadjourney.workflows import init_workspace

    ws = init_workspace(directory)
    console.print(f"Created workspace [bold]{ws.root}[/bold]")
    console.print(f"  config:   {ws.config_path}  (edit stages, channels, sources here)")
    console.print(f"  database: {ws.database_path}")
    console.print(f"  outputs:  {ws.out_dir}")
    console.print("Next: add \\[\\[sources]] to the config, or `leadjourney ingest --file EXPORT.csv --format hubspot_contacts`.")


@app.command()
def generate(
    workspace: WorkspaceArg = Path("."),
    leads: Annotated[int, typer.Option(min=1, help="Number of leads.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    days: Annotated[int, typer.Option(min=7, help="Length of the period, in days.")] = 180,
    end: Annotated[str | None, typer.Option(help="Last day of the period (YYYY-MM-DD; default today).")] = None,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    clean: Annotated[bool, typer.Option(help="No planted dirt (duplicates, missing dates, ...).")] = False,
) -> None:
    """Write a realistic synthetic B2B dataset (with its ground truth) and register it as sources.

    Example: [bold]leadjourney generate acme-journey --leads 50000 --seed 3[/bold]
    """
    from leadjourney.workflows import generate_into, init_workspace

    ws = init_workspace(workspace, exist_ok=True)
    with render.progress_bar(err, "generate") as progress:
        made = generate_into(ws, leads=leads, seed=seed, days=days, end=parse_date(end, "--end"),
                             file_format=file_format, clean=clean, progress=progress)
    show_generated(made, ws.config_path.name)


def show_generated(made: Generated, config_name: str) -> None:
    data = made.data
    console.print(f"Generated {made.leads:,} leads into {data.out_dir} (ground truth: {data.ground_truth_path.name});"
                  f" registered {len(made.sources)} sources in {config_name}.")


@app.command("ingest")
def ingest_command(
    workspace: WorkspaceArg = Path("."),
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")] = None,
    file: Annotated[Path | None, typer.Option(help="Register this file as a source, then ingest it.")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help=f"Format of --file: {', '.join(SOURCE_FORMATS)}.")] = None,
    table: Annotated[str | None, typer.Option(help="Canonical table of a csv/parquet --file.")] = None,
    name: Annotated[str | None, typer.Option(help="Source name for --file (default: the file name).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of offset-less timestamps in --file.")] = None,
    force: Annotated[bool, typer.Option(help="Reload sources even when their file is unchanged.")] = False,
    prune: Annotated[bool, typer.Option(help="Remove rows of sources no longer in the config.")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Load files with a header and no rows even "
                                              "when every file is one (else: exit 1, workspace unchanged).")]
    = False,
) -> None:
    """Load the configured sources into the workspace database (one transaction; re-runs replace).

    Example: [bold]leadjourney ingest acme-journey --file exports/contacts.csv --format hubspot_contacts[/bold]
    """
    from leadjourney.workflows import FileSource, ingest

    quiet_pyarrow_signals()
    added = None if file is None else FileSource(file, file_format, table, name, timezone)
    with render.progress_bar(err, "ingest") as progress:
        report = ingest(workspace, only=source or (), file=added, force=force, prune=prune,
                        allow_empty=allow_empty, progress=progress)
    try:
        render.print_ingest(console, report)
    except KeyboardInterrupt:  # the ingest has committed: say so, not "unchanged"
        raise InterruptedAfterCommit from None


@app.command()
def quality(
    workspace: WorkspaceArg = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Run the data-quality checks; writes out/quality.md and out/quality.json.

    Example: [bold]leadjourney quality acme-journey --json[/bold]
    """
    from leadjourney.workflows import check_quality

    with render.progress_bar(err, "quality") as progress:
        run = check_quality(workspace, progress=progress)
    if as_json:
        print(run.report.to_json())
    else:
        console.print(render.quality_table(run.report))
        for line in render.quality_quarantine(run.report):
            console.print(line)  # wrapped at words to the terminal
        for web in (run.report.web_traffic, run.report.web_stitching):
            if web is not None:
                console.print(terminal_text(web.text()))
        console.print(f"Details, and what each finding does to the analysis: {run.files[0]}")


@app.command("analyze")
def analyze_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None,
    date_to: ToOption = None,
    source: SourceOption = None,
    persona: PersonaOption = None,
    owner: OwnerOption = None,
    mode: Annotated[str, typer.Option(help="Funnel counting: stage_reach, ordered or cohort.")] = "stage_reach",
    window: Annotated[int, typer.Option(min=1, help="Cohort mode: conversions within this many days.")] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON instead of tables.")] = False,
    baseline: Annotated[bool, typer.Option(help="Mark this run as the baseline later periods compare with.")] = False,
    engine: EngineOption = None,
) -> None:
    """Compute the journey baseline: funnel with intervals, time in stage; writes out/analysis.md and .json.

    Example: [bold]leadjourney analyze acme-journey --from 2026-01-01 --source seo --persona smb_founder[/bold]
    """
    from leadjourney.workflows import analyze, open_workspace

    ws = open_workspace(workspace, engine)
    filters = selection(ws, date_from, date_to, source, persona, owner, check=False)
    with render.progress_bar(err, "analyze") as progress:  # the workflow checks the selection
        run = analyze(ws, filters, mode=mode, window_days=window, save=True, baseline=baseline,
                      progress=progress)
    if run.changed:  # on stderr, so --json stays one document
        err.print(f"[yellow]note:[/yellow] {len(run.changed)} signed finding(s) of {terminal_text(run.selection)} "
                  f"differ in this analysis ({terminal_text(', '.join(f.finding_id for f in run.changed[:5]))}): the "
                  "signed numbers are kept, the new ones recorded beside them (`leadjourney findings`).", soft_wrap=True)
    if as_json:
        print(run.analysis.to_json())
        return
    render.print_analysis(console, run.analysis, ws.config.labels)
    console.print(f"Written: {run.files[0]} and {run.files[1].name}; snapshot {run.snapshot}"
                  f"{' (baseline)' if baseline else ''} and the findings of {terminal_text(run.selection)} "
                  "(ASSUMED until confirmed) stored.")


@app.command("export-tables")
def export_tables_command(
    workspace: WorkspaceArg = Path("."),
    force: Annotated[bool, typer.Option(help="Write them even when the export matches the workspace.")] = False,
) -> None:
    """Write every canonical and derived table as Parquet to <workspace>/tables (what Spark reads).

    Example: [bold]leadjourney export-tables acme-journey[/bold]
    """
    from leadjourney.workflows import export_tables

    with render.progress_bar(err, "export") as progress:
        export = export_tables(workspace, force=force, progress=progress)
    for table, rows in export.tables.items():
        built = "" if export.path(table).exists() else f" (left to {export.derived_by}, which builds it when it loads them)"
        console.print(f"{table}: {rows:,} rows{built}", soft_wrap=True)
    console.print(f"Written to {terminal_text(str(export.folder))} (as of {export.exported_at} UTC; "
                  "\\[engine] backend = \"pyspark\" reads them and \"postgres\" loads them, exported again when the "
                  "workspace changes).",
                  soft_wrap=True)


findings_app = typer.Typer(**group_settings(
    short_help="Findings from the analysis: ASSUMED until stakeholders confirm or correct them."))
app.add_typer(findings_app, name="findings")
ModeOption = Annotated[str | None, typer.Option(help="The funnel mode the findings were computed in (default "
                                                     "stage_reach).")]
WindowOption = Annotated[int | None, typer.Option(help="Cohort mode: its window in days (default 90).")]


def _finding_selection(workspace: Path, date_from: str | None, date_to: str | None, source: list[str] | None,
                       persona: list[str] | None, owner: list[str] | None, mode: str | None,
                       window: int | None) -> str | None:
    """The selection key named by the options (as `analyze` was run; values checked, owner pseudonyms
    resolved), or None when none is given."""
    from leadjourney.analysis.findings import selection_key

    if not any((date_from, date_to, source, persona, owner, mode, window)):
        return None
    ws = open_workspace(workspace)
    filters = selection(ws, date_from, date_to, source, persona, owner, require_people=False)
    return selection_key(filters, mode or "stage_reach", window or 90)


@findings_app.callback()
def findings_list(
    ctx: typer.Context,
    workspace: WorkspaceArg = Path("."),
    alias: WorkspaceAlias = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    every: Annotated[bool, typer.Option("--all", help="The findings of every selection analyzed.")] = False,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None, mode: ModeOption = None, window: WindowOption = None,
) -> None:
    """Findings from the analysis, ASSUMED until stakeholders confirm or correct them.

    Lists the findings with their status: all leads' by default; the selection options (as `analyze` was
    run) another selection's, --all every selection's. A signed finding the latest analysis of its selection
    contradicts shows the signed number and the new one ("changed since sign-off").

    Example: [bold]leadjourney findings acme-journey[/bold]; then
    [bold]leadjourney findings acme-journey confirm "conversion:MQL->SQL" --note "RevOps, kickoff"[/bold];
    a selection's: [bold]leadjourney findings acme-journey --source seo confirm "conversion:MQL->SQL"[/bold]
    """
    from leadjourney.analysis.findings import ALL_LEADS, list_findings, selection_label, selections

    workspace = chosen_workspace(workspace, alias)
    chosen = _finding_selection(workspace, date_from, date_to, source, persona, owner, mode, window)
    ctx.obj = (workspace, chosen)
    if ctx.invoked_subcommand is not None:
        return
    ws = open_workspace(workspace)
    key = chosen or ALL_LEADS
    items = list_findings(ws, None if every else key)
    if as_json:
        print(json.dumps([f.to_dict() for f in items], indent=2))
        return
    if not items:
        console.print(f"No findings for {terminal_text(selection_label(key))} yet: run `leadjourney analyze` with this "
                      "selection first." if not every else "No findings yet: run `leadjourney analyze` first.")
    for shown in dict.fromkeys(f.selection for f in items):
        console.print(render.findings_table([f for f in items if f.selection == shown],
                                            f"Findings: {terminal_text(selection_label(shown))}"))
    others = [s for s in selections(ws) if s != key]
    if others and not every:
        console.print(f"Findings of {len(others)} other selection(s) are stored too "
                      f"({terminal_text('; '.join(selection_label(s) for s in others[:5]))}): `leadjourney findings --all`.")


def _set_status(ctx: typer.Context, finding_id: str, status: str, note: str | None, key: str | None) -> None:
    from leadjourney.analysis.findings import ALL_LEADS, selection_label, set_status

    workspace, chosen = ctx.obj
    key = key or chosen or ALL_LEADS
    f = set_status(open_workspace(workspace), finding_id, status, note, key)
    console.print(f"{f.finding_id} ({terminal_text(selection_label(key))}): {f.status}" + (f" ({terminal_text(f.note)})" if f.note else "")
                  + f"; signed: {terminal_text(arrows(f.statement))}")


@findings_app.command("confirm")
def findings_confirm(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="The finding's id, as `leadjourney findings` lists it.")],
    note: Annotated[str | None, typer.Option(help="Who confirmed it, where.")] = None,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None, mode: ModeOption = None, window: WindowOption = None,
) -> None:
    """Mark a finding CONFIRMED (stakeholders agree with the number `leadjourney findings` shows now).

    Example: [bold]leadjourney findings acme-journey confirm "conversion:MQL->SQL" --note "RevOps, kickoff"[/bold]
    """
    _set_status(ctx, finding_id, "CONFIRMED", note,
                _finding_selection(ctx.obj[0], date_from, date_to, source, persona, owner, mode, window))


@findings_app.command("correct")
def findings_correct(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="The finding's id.")],
    note: Annotated[str, typer.Option(help="What is right instead, and who said so.")],
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None, mode: ModeOption = None, window: WindowOption = None,
) -> None:
    """Mark a finding CORRECTED, with what stakeholders say is right.

    Example: [bold]leadjourney findings acme-journey correct speed_to_lead:median --note "CRM logs calls late;
    RevOps"[/bold]
    """
    _set_status(ctx, finding_id, "CORRECTED", note,
                _finding_selection(ctx.obj[0], date_from, date_to, source, persona, owner, mode, window))


# the other command modules register themselves on `app`
from leadjourney.cli import dashboard as dashboard_commands  # noqa: E402, F401
from leadjourney.cli import definitions, journey, recommend  # noqa: E402, F401
from leadjourney.cli import demo as demo_commands  # noqa: E402, F401
from leadjourney.cli import monitor as monitor_commands  # noqa: E402, F401
from leadjourney.cli import pull as pull_commands  # noqa: E402, F401
from leadjourney.cli import report as report_commands  # noqa: E402, F401  (`report` is a variable name above)
from leadjourney.cli import status as status_commands  # noqa: E402, F401  (`status` is a parameter name above)

one_line_summaries(app)  # every command registered: the command lists' one-line summaries
