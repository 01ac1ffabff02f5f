"""Which leads: a selection (dates, sources, personas, owners) as :class:`Filters`, checked against the data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from leadjourney.dates import parse_date
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:  # the analysis layer (and Ibis) loads only when a workflow needs it
    from leadjourney.analysis.journeys import Filters


def filters_of(date_from: str | date | None = None, date_to: str | date | None = None,
               sources: Sequence[str] | None = None, personas: Sequence[str] | None = None,
               owners: Sequence[str] | None = None) -> Filters:
    """The selection as :class:`Filters`, unchecked (a stored finding's selection is named this way)."""
    from leadjourney.analysis.journeys import Filters

    return Filters(parse_date(date_from, "--from"), parse_date(date_to, "--to"), tuple(sources or ()),
                   tuple(personas or ()), tuple(owners or ()))


def select(workspace: WorkspaceLike, date_from: str | date | None = None, date_to: str | date | None = None,
           sources: Sequence[str] | None = None, personas: Sequence[str] | None = None,
           owners: Sequence[str] | None = None, *, require_people: bool = True) -> Filters:
    """The selection checked against the workspace's data: an unknown value (with the valid ones), nothing
    ingested or nobody selected is a :class:`~leadjourney.errors.SelectionError`; owner pseudonyms become
    names. ``require_people=False``: the values only (a document read before there is data)."""
    from leadjourney.analysis.journeys import open_journeys
    from leadjourney.analysis.selection import check_selection
    from leadjourney.config import EngineSettings

    filters = filters_of(date_from, date_to, sources, personas, owners)
    # on the workspace's DuckDB file whatever [engine] says: a quick check of values where they enter
    with open_journeys(open_workspace(workspace), filters, engine=EngineSettings()) as journeys:
        check_selection(journeys, require_people=require_people)
        return journeys.filters
