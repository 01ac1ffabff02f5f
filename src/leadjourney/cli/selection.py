"""The options every analysis command shares: which leads (dates, sources, personas, owners)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.dates import parse_date
from leadjourney.schema import ENGINE_BACKENDS

if TYPE_CHECKING:  # the analysis layer (and Ibis) loads only when a command needs it
    from leadjourney.analysis.journeys import Filters
    from leadjourney.workspace import Workspace

FromOption = Annotated[str | None, typer.Option("--from", help="Leads created on or after (YYYY-MM-DD).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Leads created on or before (YYYY-MM-DD).")]
SourceOption = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this channel (repeatable).")]
PersonaOption = Annotated[list[str] | None, typer.Option("--persona", "-p", help="Only this persona (repeatable).")]
OwnerOption = Annotated[list[str] | None, typer.Option("--owner", help="Only leads this owner holds (repeatable).")]
EngineOption = Annotated[str | None, typer.Option(
    "--engine", help=f"Run the analyses on this engine instead of leadjourney.toml's \\[engine] backend (this run "
    f"only): {', '.join(ENGINE_BACKENDS)}.")]

__all__ = ["EngineOption", "FromOption", "OwnerOption", "PersonaOption", "SourceOption", "ToOption", "parse_date", "selection"]


def selection(ws: Workspace, date_from: str | None, date_to: str | None, sources: list[str] | None,
              personas: list[str] | None, owners: list[str] | None = None, *, check: bool = True,
              require_people: bool = True) -> Filters:
    """The command line's selection as :class:`Filters`, checked against the workspace's data
    (:func:`leadjourney.workflows.select`); ``check=False`` when the command's workflow checks it (``analyze``);
    ``require_people=False``: the values only (``definitions``)."""
    from leadjourney.workflows.selection import filters_of, select

    if not check:
        return filters_of(date_from, date_to, sources, personas, owners)
    return select(ws, date_from, date_to, sources, personas, owners, require_people=require_people)

