"""``leadjourney definitions``: the Definition Alignment Document, its drift check and sign-offs.

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
from leadjourney.cli.workspace_arg import (
    WorkspaceAlias,
    chosen_workspace,
    group_settings,
    open_workspace,
)
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from leadjourney.reports.definitions import DefinitionDocument

definitions_app = typer.Typer(**group_settings(
    short_help="Lead stage definitions: the Definition Alignment Document, drift in the data, and sign-offs."))
app.add_typer(definitions_app, name="definitions")

@definitions_app.callback()
def definitions_document(
    ctx: typer.Context,
    workspace: WorkspaceArg = Path("."),
    alias: WorkspaceAlias = None,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the document as JSON.")] = False,
) -> None:
    """The Definition Alignment Document: each term's definition and criteria, the people who entered a
    stage without meeting them (drift), the speed-to-lead SLA, and who approved what.

    Writes out/definitions.md and .json. The terms are the [[definitions]] in leadjourney.toml.
    Example: [bold]leadjourney definitions acme-journey[/bold]; then
    [bold]leadjourney definitions acme-journey approve MQL --by "Jane Doe" --role Marketing[/bold]
    """
    workspace = chosen_workspace(workspace, alias)
    ctx.obj = workspace
    if ctx.invoked_subcommand is not None:
        return
    from leadjourney.workflows.definitions import definitions

    ws = open_workspace(workspace)
    filters = selection(ws, date_from, date_to, source, persona, require_people=False)  # read before there is data
    with render.progress_bar(err, "definitions") as progress:
        run = definitions(ws, filters, progress=progress)
    doc, files = run.result, run.files
    if as_json:
        print(doc.to_json())
        return
    console.print(_table(doc, console.width))
    console.print(terminal_text(doc.status_line()))
    if doc.check.caveat():
        console.print(f"[yellow]caveat:[/yellow] {terminal_text(doc.check.caveat() or '')}")
    for path in files:
        console.print(f"  written  {path}")


@definitions_app.command("approve")
def definitions_approve(
    ctx: typer.Context,
    term: Annotated[str, typer.Argument(help="The term, as in leadjourney.toml (e.g. MQL).")],
    by: Annotated[str, typer.Option("--by", help="Who approves (shown in the document only).")],
    role: Annotated[str, typer.Option("--role", help="Marketing, Sales, RevOps or Executive.")],
    note: Annotated[str | None, typer.Option(help="Where or how it was agreed.")] = None,
    workspace: Annotated[Path | None, typer.Option("--workspace", "-w", help="Workspace folder.")] = None,
) -> None:
    """Record a stakeholder's approval of a term's current wording.

    Example: [bold]leadjourney definitions acme-journey approve SQL --by "Sam Lee" --role Sales[/bold]
    """
    from leadjourney.workflows.definitions import approve_definition

    approval = approve_definition(workspace or ctx.obj, term, by, role, note)
    signoff, missing = approval.signoff, approval.missing
    still = ", ".join(missing) if missing else "nobody: signed off"
    console.print(f"{terminal_text(signoff.term)}: approved for {signoff.role} on {signoff.approved_at:%Y-%m-%d}; "
                  f"still missing: {still}.")


def _table(doc: DefinitionDocument, width: int = 200) -> Table:
    """One row per term: its definition, criteria and drift; the sign-offs in one column, a role a line. Under
    120 columns the criteria and drift stack under the definition (three columns read at 80)."""
    stacked = width < 120
    table = Table(title=f"Definition Alignment Document: {terminal_text(doc.engagement)}", show_lines=True)
    table.add_column("term", style="bold", no_wrap=True)
    table.add_column("definition, criteria, in the data" if stacked else "definition", ratio=3)
    if not stacked:
        table.add_column("criteria", ratio=2)
        table.add_column("in the data", ratio=3)
    table.add_column("signed off")
    for t in doc.terms:
        d = t.definition
        criteria = "; ".join(c.text for c in d.criteria)
        if d.sla_minutes is not None:
            criteria = f"SLA {d.sla_minutes:g} min"
        roles = []
        for role in doc.required_roles:
            found = [s for s in t.approvals if s.role == role]
            roles.append(f"{role}: " + ("; ".join(f"{terminal_text(s.approved_by)} {s.approved_at:%Y-%m-%d}"
                                                   for s in found) or "[red]missing[/red]"))
        texts = [terminal_text(d.definition), terminal_text(criteria), terminal_text(t.data_line)]
        if stacked:
            texts = ["\n".join([texts[0], *(f"[dim]{label}:[/dim] {text}" for label, text
                                           in zip(("criteria", "in the data"), texts[1:], strict=True) if text)])]
        table.add_row(terminal_text(d.term), *texts, "\n".join(roles))
    return table
