"""``leadjourney report``: the documentation package, and interview answers recorded against its guide.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

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
from leadjourney.cli.workspace_arg import (
    WorkspaceAlias,
    chosen_workspace,
    group_settings,
    open_workspace,
)
from leadjourney.escape import terminal_text

report_app = typer.Typer(**group_settings(
    short_help="The documentation package, and interview answers recorded against its guide."))
app.add_typer(report_app, name="report")


@report_app.callback()
def report_command(
    ctx: typer.Context,
    workspace: WorkspaceArg = Path("."),
    alias: WorkspaceAlias = None,
    formats: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: md, html, docx, pptx.")]
    = "md,html,docx,pptx",
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    engine: EngineOption = None,
) -> None:
    """The documentation package: recommendations, lead stage definitions, persona profiles, friction ranking,
    maintenance playbook, FAQ and interview guide (Markdown, self-contained HTML, Word) and a board deck
    (PowerPoint), all from one analysis of the workspace.

    Writes out/report/.

    Example: [bold]leadjourney report acme-journey --format html,pptx[/bold]; record an interview answer:
    [bold]leadjourney report acme-journey answer --role sales --question 4 --finding speed_to_lead:median
    --text "..."[/bold]
    """
    workspace = chosen_workspace(workspace, alias)
    ctx.obj = workspace
    if ctx.invoked_subcommand is not None:
        return
    from leadjourney.reports.package import check_formats
    from leadjourney.workflows import build_report, open_workspace

    check_formats([formats])  # a bad format fails before any work
    ws = open_workspace(workspace, engine)
    filters = selection(ws, date_from, date_to, source, persona)
    started = time.perf_counter()
    with render.progress_bar(err, "report") as progress:
        run = build_report(ws, filters, formats=[formats], progress=progress)
    package, chosen, files = run.package, run.formats, run.files
    console.print(f"Documentation package for {terminal_text(package.name)}: {len(package.documents)} documents"
                  + (" and the board deck" if "pptx" in chosen else "")
                  + f" from {package.analysis.n_people:,} people, in {time.perf_counter() - started:.1f} s.")
    if package.baseline is None:
        console.print("[yellow]note:[/yellow] no stored baseline: the maintenance thresholds use this analysis "
                      "(store one with `leadjourney analyze --baseline`).")
    for path in files:
        console.print(f"  written  {path}")


@report_app.command("answer")
def answer_command(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="marketing, sales or revops (never a name).")],
    question: Annotated[int, typer.Option("--question", "-q", help="The question's number in the guide.")],
    text: Annotated[str, typer.Option("--text", help="What was said; leave names out.")],
    finding: Annotated[str | None, typer.Option("--finding", help="A finding id it confirms or corrects.")] = None,
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace folder.")] = None,
) -> None:
    """Record an interview answer under its question in the guide (by role only: names are personal data).

    Example: [bold]leadjourney report acme-journey answer --role sales --question 4 --finding
    speed_to_lead:median --text "SDRs work MQLs in a morning batch"[/bold]
    """
    from leadjourney.reports.interviews import question_of, record_answer, role_of

    ws = open_workspace(workspace or ctx.obj)
    answer = record_answer(ws, role, question, text, finding)
    q = question_of(role_of(answer.role), answer.question)
    link = f", linked to {answer.finding_id}" if answer.finding_id else ""
    console.print(f"Answer {answer.answer_id} recorded for {answer.role} question {q.number} "
                  f"({terminal_text(q.text)}){terminal_text(link)}. Regenerate with `leadjourney report`.")
