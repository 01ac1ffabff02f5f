"""Commands for the journey map and what it is drawn from: touchpoints, personas, paths, map, event log.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from leadjourney.cli import render
from leadjourney.cli.base import WorkspaceArg, app, console, err
from leadjourney.cli.selection import (
    EngineOption,
    FromOption,
    PersonaOption,
    SourceOption,
    ToOption,
    selection,
)
from leadjourney.cli.workspace_arg import open_workspace
from leadjourney.display import counted, display_name
from leadjourney.escape import terminal_text

if TYPE_CHECKING:  # the analysis layer (and Ibis) loads only when a command needs it
    from leadjourney.workflows import TableRun

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _unpack(run: TableRun[T]) -> tuple[T, list[Path]]:
    return run.result, run.files


def _written(paths: list[Path]) -> None:
    for path in paths:
        console.print(f"  written  {path}")


@app.command("touchpoints")
def touchpoints_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, as_json: JsonOption = False, engine: EngineOption = None,
) -> None:
    """Touchpoint inventory: every kind x channel per stage, automated vs human, volume, reach, lift.

    Writes out/touchpoints.md, .csv and .xlsx.
    Example: [bold]leadjourney touchpoints acme-journey --persona smb_founder[/bold]
    """
    from leadjourney.workflows import touchpoints

    ws = open_workspace(workspace, engine)
    with render.progress_bar(err, "touchpoint inventory") as progress:
        inventory, files = _unpack(touchpoints(ws, selection(ws, date_from, date_to, source, persona),
                                               progress=progress))
    if as_json:
        render.print_json(inventory.to_dict())
        return
    console.print(render.touchpoint_table(inventory, labels=ws.config.labels))
    _written(files)


@app.command("personas")
def personas_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    k: Annotated[int | None, typer.Option(min=2, max=8, help="Suggest exactly this many personas (default: 2-4, "
                                                             "chosen by silhouette).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the suggestion's sample and clustering.")] = 0,
    suggest: Annotated[bool, typer.Option(help="Also suggest personas found in the data.")] = True,
    as_json: JsonOption = False, engine: EngineOption = None,
) -> None:
    """Persona profiles (size, sources, funnel, time in stage, touchpoints, how each differs) and
    personas suggested by clustering, with \\[\\[personas]] rules to paste into leadjourney.toml.

    Writes out/personas.md and .json.
    Example: [bold]leadjourney personas acme-journey --k 3[/bold]
    """
    from leadjourney.workflows import personas

    ws = open_workspace(workspace, engine)
    filters = selection(ws, date_from, date_to, source, persona)
    with render.progress_bar(err, "personas") as progress:
        report, files = _unpack(personas(ws, filters, k=k, seed=seed, suggest=suggest, progress=progress))
    if as_json:
        print(report.to_json())
        return
    labels = ws.config.labels
    console.print(render.persona_table(report.profiles, labels))
    for profile in report.profiles.profiles:
        console.print(f"[bold]{terminal_text(display_name(profile.persona, labels))}[/bold]: "
                      f"{terminal_text(profile.narrative())}")
    if report.suggestion is not None:
        console.print("\nSuggested from the data (paste into leadjourney.toml to adopt):")
        console.print(terminal_text(render.toml_lines(report.suggestion.to_toml(), console.width)), highlight=False,
                      soft_wrap=True)
    _written(files)


@app.command("paths")
def paths_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    top: Annotated[int, typer.Option(min=1, help="How many of the most common paths to list.")] = 10,
    as_json: JsonOption = False, engine: EngineOption = None,
) -> None:
    """The most common real paths through the stages, the happy path's share, dark and re-engagement
    paths, and a Sankey of flows including drop-outs.

    Writes out/paths.md, paths.json and paths_sankey.html (interactive, offline).
    Example: [bold]leadjourney paths acme-journey --top 15[/bold]
    """
    from leadjourney.workflows import paths as find_paths

    ws = open_workspace(workspace, engine)
    with render.progress_bar(err, "paths") as progress:
        paths, files = _unpack(find_paths(ws, selection(ws, date_from, date_to, source, persona), top=top,
                                          progress=progress))
    if as_json:
        render.print_json(paths.to_dict())
        return
    console.print(render.paths_table(paths))
    _written(files)


@app.command("map")
def map_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    formats: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html, svg, png, drawio, "
                                                                "mermaid, miro-csv.")] = "html,svg,png,drawio,mermaid,miro-csv",
    scale: Annotated[float, typer.Option(min=0.5, max=4.0, help="PNG pixel scale (2 for slides).")] = 1.0,
    tables: Annotated[bool, typer.Option(help="Also write the touchpoint, persona and path tables the map is "
                                              "drawn from (as the touchpoints, personas and paths commands "
                                              "do), from the same run.")] = True,
    engine: EngineOption = None,
) -> None:
    """Draw the journey map: lanes, touchpoints, conversion points, red drop-offs with revenue impact,
    the dark-lead path and persona lanes. HTML is interactive and works offline. Beside it, the
    touchpoint inventory, persona profiles with suggested personas, and paths (--no-tables: the map only).

    Example: [bold]leadjourney map acme-journey --persona enterprise_it --format html,png[/bold]
    """
    from leadjourney.workflows import journey_map, open_workspace

    ws = open_workspace(workspace, engine)
    filters = selection(ws, date_from, date_to, source, persona)
    with render.progress_bar(err, "map") as progress:
        run = journey_map(ws, filters, formats=[formats], scale=scale, tables=tables, progress=progress)
    jm = run.journey_map
    console.print(f"Journey map of {jm.n_people:,} people ({terminal_text(jm.period)}): "
                  f"{counted(len(jm.drop_offs), 'drop-off point')} flagged red, "
                  f"{counted(sum(len(lane.touchpoints) for lane in jm.lanes), 'touchpoint kind')}, "
                  f"{counted(len(jm.personas), 'persona lane')}.")
    _written(run.files)


@app.command("eventlog")
def eventlog_command(
    workspace: WorkspaceArg = Path("."),
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or xes (IEEE 1849, for PM4Py, Disco, "
                                                            "Celonis).")] = "csv",
) -> None:
    """Export the stage and touchpoint log as an event log for process-mining tools.

    Example: [bold]leadjourney eventlog acme-journey --format xes[/bold]
    """
    from leadjourney.journeymap.eventlog import check_format
    from leadjourney.workflows import event_log

    check_format(fmt)  # a bad format fails before any work
    ws = open_workspace(workspace)
    with render.progress_bar(err, "event log") as progress:
        export = event_log(ws, selection(ws, date_from, date_to, source, persona), fmt=fmt, progress=progress)
    console.print(f"{export.cases:,} cases, {export.events:,} events ({export.stage_events:,} stage entries, "
                  f"{export.touchpoints:,} touchpoints).")
    _written([export.path])
