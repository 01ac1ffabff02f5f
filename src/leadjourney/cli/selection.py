"""The options every analysis command shares: which leads (dates, sources, personas, owners)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.errors import OptionError
from leadjourney.workspace import Workspace

if TYPE_CHECKING:  # the analysis layer (and Ibis) loads only when a command needs it
    from leadjourney.analysis.journeys import Filters

FromOption = Annotated[str | None, typer.Option("--from", help="Leads created on or after (YYYY-MM-DD).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Leads created on or before (YYYY-MM-DD).")]
SourceOption = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this channel (repeatable).")]
PersonaOption = Annotated[list[str] | None, typer.Option("--persona", "-p", help="Only this persona (repeatable).")]
OwnerOption = Annotated[list[str] | None, typer.Option("--owner", help="Only leads this owner holds (repeatable).")]


def selection(ws: Workspace, date_from: str | None, date_to: str | None, sources: list[str] | None,
              personas: list[str] | None, owners: list[str] | None = None, *, check: bool = True,
              require_people: bool = True) -> Filters:
    """The command line's selection as :class:`Filters`, checked against the workspace's data
    (:func:`~leadjourney.analysis.selection.checked_filters`: an unknown value, nothing ingested or nobody
    selected is a :class:`~leadjourney.errors.SelectionError`); ``check=False`` when the command's own layer
    function checks it (``analyze``); ``require_people=False``: the values only (``definitions``)."""
    from leadjourney.analysis.selection import checked_filters

    filters = filters_of(date_from, date_to, sources, personas, owners)
    return checked_filters(ws, filters, require_people=require_people) if check else filters


def filters_of(date_from: str | None, date_to: str | None, sources: list[str] | None,
               personas: list[str] | None, owners: list[str] | None = None) -> Filters:
    """The options as :class:`Filters`, unchecked (a stored finding's selection is named this way)."""
    from leadjourney.analysis.journeys import Filters

    return Filters(parse_date(date_from, "--from"), parse_date(date_to, "--to"), tuple(sources or ()),
                   tuple(personas or ()), tuple(owners or ()))


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{option}: expected a date like 2026-06-30, found {text!r}") from None
