"""``leadjourney status``: the playbook's phases, checklists and gates, and manual items done/undone.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadjourney.cli.base import WorkspaceArg, app, console
from leadjourney.cli.render import command_lines
from leadjourney.cli.workspace_arg import WorkspaceAlias, chosen_workspace, group_settings
from leadjourney.escape import terminal_text

if TYPE_CHECKING:
    from leadjourney.reports.status import EngagementStatus, PhaseStatus

status_app = typer.Typer(**group_settings(
    short_help="Engagement status: the playbook's checklists, ticked from the workspace, and what blocks the next gate."))
app.add_typer(status_app, name="status")

ItemArg = Annotated[str, typer.Argument(help="The item's id, as `leadjourney status` lists it (e.g. kickoff).")]


@status_app.callback()
def status_show(
    ctx: typer.Context,
    workspace: WorkspaceArg = Path("."),
    alias: WorkspaceAlias = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """The four phases' checklists with what the workspace proves ticked, and what blocks the next gate,
    with the command that fixes each item.

    Writes out/status.md and .json.
    Example: [bold]leadjourney status acme-journey[/bold]; then
    [bold]leadjourney status acme-journey done kickoff --note "kickoff call, all three teams"[/bold]
    """
    workspace = chosen_workspace(workspace, alias)
    ctx.obj = workspace
    if ctx.invoked_subcommand is not None:
        return
    from leadjourney.workflows.status import engagement_status

    run = engagement_status(workspace, label=str(workspace))
    status, files = run.result, run.files
    if as_json:
        print(status.to_json())
        return
    for phase in status.phases:
        console.print(phase_table(phase, console.width))
    _show_gate(status)
    for path in files:
        console.print(f"  written  {path}")


@status_app.command("done")
def status_done(
    ctx: typer.Context,
    item_id: ItemArg,
    note: Annotated[str | None, typer.Option(help="What was done, where (no names).")] = None,
) -> None:
    """Record a manual checklist item as done (again: replaces its date and note).

    Example: [bold]leadjourney status acme-journey done interviews --note "2 Marketing, 2 Sales, 1 RevOps"[/bold]
    """
    from leadjourney.workflows.status import mark_item_done

    record = mark_item_done(ctx.obj, item_id, note)
    console.print(f"{record.item_id}: done {record.done_at:%Y-%m-%d}" + (f" ({terminal_text(record.note)})" if record.note
                                                                         else ""))


@status_app.command("undo")
def status_undo(ctx: typer.Context, item_id: ItemArg) -> None:
    """Forget that a checklist item was marked done.

    Example: [bold]leadjourney status acme-journey undo kickoff[/bold]
    """
    from leadjourney.workflows.status import undo_item

    undone = undo_item(ctx.obj, item_id)
    if undone.was_done:
        console.print(f"{undone.item_id}: no longer marked done")
    else:
        console.print(f"{undone.item_id}: was not marked done; nothing changed")


def phase_table(phase: PhaseStatus, width: int = 200) -> Table:
    """A phase's items with their evidence. Under 100 columns the evidence stacks under its item (three
    columns read at 80), and an open manual item's "not recorded yet" is left to its mark."""
    from leadjourney.workflows.status import NOT_RECORDED

    stacked = width < 100
    state = "[green]gate open[/green]" if phase.gate_open else f"[red]gate blocked ({len(phase.blockers)})[/red]"
    optional = " (optional)" if phase.phase.optional else ""
    table = Table(title=f"{phase.title}{optional}: {state}", title_justify="left")
    table.add_column("", width=1)
    table.add_column("id", style="bold", no_wrap=True)  # typed back in commands: never wrapped
    table.add_column("item · evidence" if stacked else "item", ratio=3, overflow="fold")
    if not stacked:
        table.add_column("evidence", ratio=4, overflow="fold")  # wrapped at spaces; nothing cut with an ellipsis
    for s in phase.items:
        tick = f"[green]{s.mark}[/green]" if s.done else f"[red]{s.mark}[/red]"
        kind = "" if s.item.automatic else " [dim](manual)[/dim]"
        item = f"[dim]{s.item.step}[/dim] " + terminal_text(s.item.title) + kind
        if stacked:
            shown = "" if s.evidence == NOT_RECORDED else f"\n[dim]→[/dim] {terminal_text(s.evidence)}"
            table.add_row(tick, s.item.id, item + shown)
        else:
            table.add_row(tick, s.item.id, item, terminal_text(s.evidence))
    return table


def _show_gate(status: EngagementStatus) -> None:
    gate = status.next_gate
    if gate is None:
        console.print("[green]Every gate is open:[/green] the engagement is complete.")
        return
    console.print(f"[bold]Next gate:[/bold] {terminal_text(gate.title)} ({terminal_text(gate.phase.gate)}); blocked by:")
    for s in gate.blockers:
        line = Table.grid(padding=(0, 1, 0, 0))  # the evidence wraps under itself, not under the mark
        line.add_column(no_wrap=True)
        line.add_column()
        line.add_row("  [red]✗[/red]", f"[bold]{s.item.id}[/bold]: {terminal_text(s.evidence)}")
        console.print(line)
        if s.fix:
            lines = command_lines(s.fix, console.width - 11)
            console.print("      run: " + f" \\\n{' ' * 11}".join(terminal_text(ln) for ln in lines), soft_wrap=True)
