"""The options every analysis command shares: which leads (dates, sources, personas, owners)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from leadjourney.config import UNASSIGNED_PERSONA
from leadjourney.errors import LeadJourneyError
from leadjourney.workspace import Workspace

if TYPE_CHECKING:  # the analysis layer (and Ibis) loads only when a command needs it
    from leadjourney.analysis.journeys import Filters

FromOption = Annotated[str | None, typer.Option("--from", help="Leads created on or after (YYYY-MM-DD).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Leads created on or before (YYYY-MM-DD).")]
SourceOption = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this channel (repeatable).")]
PersonaOption = Annotated[list[str] | None, typer.Option("--persona", "-p", help="Only this persona (repeatable).")]
OwnerOption = Annotated[list[str] | None, typer.Option("--owner", help="Only leads this owner holds (repeatable).")]


def selection(ws: Workspace, date_from: str | None, date_to: str | None, sources: list[str] | None,
              personas: list[str] | None, owners: list[str] | None = None) -> Filters:
    """The command line's selection as :class:`Filters`, checked against the workspace's config."""
    from leadjourney.analysis.journeys import Filters

    return Filters(parse_date(date_from, "--from"), parse_date(date_to, "--to"), tuple(sources or ()),
                   check_personas(ws, personas or []), tuple(owners or ()))


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LeadJourneyError(f"{option}: expected a date like 2026-06-30, found {text!r}") from None


def check_personas(ws: Workspace, names: list[str]) -> tuple[str, ...]:
    known = [p.name for p in ws.config.personas] + [UNASSIGNED_PERSONA]
    for name in names:
        if name not in known:
            raise LeadJourneyError(f"--persona: no persona {name!r} in {ws.config_path.name} "
                                   f"(personas: {', '.join(known)})")
    return tuple(names)
