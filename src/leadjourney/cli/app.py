"""The ``leadjourney`` command: thin wiring of the layers, nothing computed here."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.cli import render
from leadjourney.cli.selection import (
    FromOption,
    OwnerOption,
    PersonaOption,
    SourceOption,
    ToOption,
    parse_date,
    selection,
)
from leadjourney.config import SOURCE_FORMATS
from leadjourney.errors import LeadJourneyError
from leadjourney.escape import terminal_text
from leadjourney.ingest import IngestReport, ingest
from leadjourney.quality import QualityReport, run_quality
from leadjourney.workspace import Workspace

if TYPE_CHECKING:
    from leadjourney.generate import Scenario

app = typer.Typer(
    help="Inbound lead journey mapping: ingest CRM exports, check data quality, analyze the journey.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = render.LiveConsole(emoji=False)
err = render.LiveConsole(stderr=True, emoji=False)

WorkspaceArg = Annotated[Path, typer.Argument(help="Workspace folder (default: the current folder).")]


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
) -> None:
    """Create a workspace: a commented leadjourney.toml, an empty database and out/.

    Example: [bold]leadjourney init acme-journey[/bold]
    """
    ws = Workspace.init(directory)
    console.print(f"Created workspace [bold]{ws.root}[/bold]")
    console.print(f"  config:   {ws.config_path}  (edit stages, channels, sources here)")
    console.print(f"  database: {ws.database_path}")
    console.print(f"  outputs:  {ws.out_dir}")
    console.print("Next: add [[sources]] to the config, or `leadjourney ingest --file EXPORT.csv --format hubspot_contacts`.")


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
    ws = Workspace.init(workspace, exist_ok=True)
    generate_into(ws, leads=leads, seed=seed, days=days, end=parse_date(end, "--end"),
                   file_format=file_format, clean=clean)


def generate_into(ws: Workspace, *, leads: int, seed: int, days: int, end: date | None, file_format: str,
                   clean: bool, scenario: Scenario | None = None) -> None:
    from leadjourney.generate import Dirt
    from leadjourney.generate import generate as make_data

    if file_format not in ("parquet", "csv"):
        raise LeadJourneyError(f"--format: expected parquet or csv, found {file_format!r}")
    with console.status(f"Generating {leads:,} leads"):
        data = make_data(ws.root / "data" / "generated", n_leads=leads, seed=seed, end=end, days=days,
                         file_format=file_format,  # type: ignore[arg-type]
                         dirt=Dirt.none() if clean else Dirt(), scenario=scenario)
    sources = []
    for entry in data.sources:
        entry = dict(entry)
        entry["path"] = str(Path(data.files[entry["table"]]).resolve().relative_to(ws.root))
        sources.append(entry)
    ws.set_sources(sources)
    console.print(f"Generated {leads:,} leads into {data.out_dir} (ground truth: {data.ground_truth_path.name});"
                  f" registered {len(sources)} sources in {ws.config_path.name}.")


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
) -> None:
    """Load the configured sources into the workspace database (one transaction; re-runs replace).

    Example: [bold]leadjourney ingest acme-journey --file exports/contacts.csv --format hubspot_contacts[/bold]
    """
    ws = Workspace.open(workspace)
    only = list(source or [])
    config_before = ws.config_path.read_text("utf-8")
    if file is not None:
        if file_format is None:
            raise LeadJourneyError(f"--file {file}: say which export it is with --format ({', '.join(SOURCE_FORMATS)})")
        path = file.resolve()
        shown = path.relative_to(ws.root) if path.is_relative_to(ws.root) else path
        entry: dict[str, object] = {"name": name or file.stem, "path": str(shown), "format": file_format}
        if table:
            entry["table"] = table
        if timezone:
            entry["timezone"] = timezone
        ws.set_sources([entry])
        only.append(str(entry["name"]))
    try:
        report = ingest_sources(ws, only=only, force=force, prune=prune)
    except KeyboardInterrupt:  # the database rolled back; the --file registration goes too
        ws.config_path.write_text(config_before, "utf-8")
        raise
    show_ingest(report)


def ingest_sources(ws: Workspace, **kwargs: object) -> IngestReport:
    with render.progress_bar(err, "ingest") as progress:
        return ingest(ws, progress=progress, **kwargs)  # type: ignore[arg-type]


def show_ingest(report: IngestReport) -> None:
    console.print(render.ingest_table(report))
    for line in render.ingest_problems(report):
        console.print(line, soft_wrap=True)
    for line in render.ingest_summary(report):
        console.print(line)


@app.command()
def quality(
    workspace: WorkspaceArg = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Run the data-quality checks; writes out/quality.md and out/quality.json.

    Example: [bold]leadjourney quality acme-journey --json[/bold]
    """
    ws = Workspace.open(workspace)
    report = check_quality(ws)
    if as_json:
        print(report.to_json())
    else:
        console.print(render.quality_table(report))
        if report.web_traffic is not None:
            console.print(terminal_text(report.web_traffic.text()))
        if report.web_stitching is not None:
            console.print(terminal_text(report.web_stitching.text()))
        console.print(f"Details, and what each finding does to the analysis: {ws.out_dir / 'quality.md'}")


def check_quality(ws: Workspace) -> QualityReport:
    with render.progress_bar(err, "quality") as progress:
        report = run_quality(ws, progress=progress)
    ws.out_dir.mkdir(exist_ok=True)
    (ws.out_dir / "quality.md").write_text(report.to_markdown(), "utf-8")
    (ws.out_dir / "quality.json").write_text(report.to_json(), "utf-8")
    return report


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
) -> None:
    """Compute the journey baseline: funnel with intervals, time in stage; writes out/analysis.md and .json.

    Example: [bold]leadjourney analyze acme-journey --from 2026-01-01 --source seo --persona smb_founder[/bold]
    """
    from leadjourney.analysis import analyze
    from leadjourney.analysis.findings import list_findings, selection_label, selection_of, store

    if mode not in ("stage_reach", "ordered", "cohort"):
        raise LeadJourneyError(f"--mode: expected stage_reach, ordered or cohort, found {mode!r}")
    ws = Workspace.open(workspace)
    filters = selection(ws, date_from, date_to, source, persona, owner, check=False)  # analyze() checks it
    with render.progress_bar(err, "analyze") as progress:
        result = analyze(ws, filters=filters, mode=mode, window_days=window, progress=progress)
    ws.out_dir.mkdir(exist_ok=True)
    (ws.out_dir / "analysis.md").write_text(result.to_markdown(), "utf-8")
    (ws.out_dir / "analysis.json").write_text(result.to_json(), "utf-8")
    snapshot = store(ws, result, baseline=baseline)
    key = selection_of(result)
    changed = [f for f in list_findings(ws, key) if f.changed_since_signoff]
    if changed:  # on stderr, so --json stays one document
        err.print(f"[yellow]note:[/yellow] {len(changed)} signed finding(s) of {terminal_text(selection_label(key))} "
                  f"differ in this analysis ({terminal_text(', '.join(f.finding_id for f in changed[:5]))}): the signed "
                  "numbers are kept, the new ones recorded beside them (`leadjourney findings`).", soft_wrap=True)
    if as_json:
        print(result.to_json())
        return
    console.print(render.funnel_table(result))
    console.print(render.time_table(result))
    for line in render.headlines(result):
        console.print(terminal_text(line))
    console.print(render.friction_table(result))
    for line in render.friction_lines(result):
        console.print(line)
    console.print(f"Written: {ws.out_dir / 'analysis.md'} and analysis.json; snapshot {snapshot}"
                  f"{' (baseline)' if baseline else ''} and the findings of {terminal_text(selection_label(key))} "
                  "(ASSUMED until confirmed) stored.")


findings_app = typer.Typer(help="Findings from the analysis: ASSUMED until stakeholders confirm or correct them.",
                           invoke_without_command=True, no_args_is_help=False)
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
    if mode is not None and mode not in ("stage_reach", "ordered", "cohort"):
        raise LeadJourneyError(f"--mode: expected stage_reach, ordered or cohort, found {mode!r}")
    filters = selection(Workspace.open(workspace), date_from, date_to, source, persona, owner, require_people=False)
    return selection_key(filters, mode or "stage_reach", window or 90)


@findings_app.callback()
def findings_list(
    ctx: typer.Context,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    every: Annotated[bool, typer.Option("--all", help="The findings of every selection analyzed.")] = False,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None, mode: ModeOption = None, window: WindowOption = None,
) -> None:
    """List the findings with their status: all leads' by default; the selection options (as `analyze` was
    run) another selection's, --all every selection's. A signed finding the latest analysis of its selection
    contradicts shows the signed number and the new one ("changed since sign-off").

    Example: [bold]leadjourney findings -w acme-journey[/bold]; then
    [bold]leadjourney findings -w acme-journey confirm "conversion:MQL->SQL" --note "RevOps, kickoff"[/bold];
    a selection's: [bold]leadjourney findings -w acme-journey --source seo confirm "conversion:MQL->SQL"[/bold]
    """
    from leadjourney.analysis.findings import ALL_LEADS, list_findings, selection_label, selections

    chosen = _finding_selection(workspace, date_from, date_to, source, persona, owner, mode, window)
    ctx.obj = (workspace, chosen)
    if ctx.invoked_subcommand is not None:
        return
    ws = Workspace.open(workspace)
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
    f = set_status(Workspace.open(workspace), finding_id, status, note, key)
    console.print(f"{f.finding_id} ({terminal_text(selection_label(key))}): {f.status}" + (f" ({terminal_text(f.note)})" if f.note else "")
                  + f"; signed: {terminal_text(f.statement)}")


@findings_app.command("confirm")
def findings_confirm(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="The finding's id, as `leadjourney findings` lists it.")],
    note: Annotated[str | None, typer.Option(help="Who confirmed it, where.")] = None,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None, mode: ModeOption = None, window: WindowOption = None,
) -> None:
    """Mark a finding CONFIRMED (stakeholders agree with the number `leadjourney findings` shows now)."""
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
    """Mark a finding CORRECTED, with what stakeholders say is right."""
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
