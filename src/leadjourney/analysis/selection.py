"""A selection is checked before anything is computed or stored: every number is right, or withheld.

:func:`check_selection` (through :meth:`Journeys.check`, :func:`~leadjourney.analysis.analyze` and
``open_journeys(check=True)``; the workflows' :func:`~leadjourney.workflows.select` opens journeys to check a selection) raises

- :class:`~leadjourney.errors.SelectionError` for a filter value the workspace does not have: a source not
  among the people's channels as stored, a persona not in the config (nor ``unassigned``), an owner who holds
  no one, ``--from`` after ``--to``; the message lists the valid values, with "did you mean" when only case or
  spacing differs;
- :class:`~leadjourney.errors.NoDataError` when nothing is ingested yet;
- :class:`~leadjourney.errors.EmptySelectionError` when valid filters select no one (the message names them).

Owners may be named or given as their pseudonym (``owner-1a2b3c4d``, as the event log and the dashboard show
them, see :mod:`leadjourney.privacy`); a pseudonym is resolved to the name(s) it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from leadjourney.config import UNASSIGNED_PERSONA
from leadjourney.engine import fetch_rows, fetch_value
from leadjourney.errors import EmptySelectionError, NoDataError, SelectionError

if TYPE_CHECKING:
    from leadjourney.analysis.journeys import Filters, Journeys

NO_DATA = "the workspace holds no leads yet: run `leadjourney ingest` first"
_SHOWN = 30  # valid values listed in a message at most


def check_selection(journeys: Journeys, *, require_people: bool = True) -> int:
    """Check ``journeys.filters`` against the data (owner pseudonyms become names); the number of people selected.

    Raises :class:`SelectionError`, :class:`NoDataError` or :class:`EmptySelectionError` (see the module).
    ``require_people=False`` checks the values only (and returns -1, nobody counted): a workspace with no leads,
    or a selection of no one, passes (the definitions document is read before there is data; it says when there
    is nothing to check), unless the selection names a source or an owner, which no data can have.
    """
    f = journeys.filters
    known_personas = [p.name for p in journeys.config.personas] + [UNASSIGNED_PERSONA]
    for name in f.personas:
        if name not in known_personas:
            raise SelectionError(unknown("persona", name, known_personas, "in the config's [[personas]]",
                                         " (the config's, and unassigned)"))
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise SelectionError(f"the date range is empty: from {f.date_from} is after to {f.date_to}")
    if not fetch_value(journeys.table("leads").count()):
        if require_people or f.sources or f.owners:
            raise NoDataError(NO_DATA)
        return 0
    everyone = journeys.everyone()
    if f.sources:
        present = _values(everyone, "source")
        for name in f.sources:
            if name not in present:
                raise SelectionError(unknown("source", name, present, "in the data", " (channels as stored)"))
    if f.owners:
        owners = _resolve_owners(journeys, f.owners)
        if owners != f.owners:
            journeys.reselect(replace(f, owners=owners))
    if not require_people:
        return -1  # not counted
    n = int(fetch_value(journeys.people().count()) or 0)
    if n == 0:
        total = int(fetch_value(everyone.count()) or 0)
        if total == 0:
            raise EmptySelectionError("no people in the workspace: every lead is excluded as an unqualified contact "
                                      "(see [exclusions] in the config)")
        raise EmptySelectionError(f"no people in the selection {describe(f)} "  # as given: a pseudonym stays one
                                  f"(of {total:,} in the workspace): nothing computed or stored; widen the selection")
    return n


def describe(filters: Filters) -> str:
    """The selection in words: ``all leads``, or ``created 2026-01-01 to 2026-03-31, source seo, ...``."""
    parts = []
    if filters.date_from and filters.date_to:
        parts.append(f"created {filters.date_from} to {filters.date_to}")
    elif filters.date_from or filters.date_to:
        parts.append(f"created from {filters.date_from}" if filters.date_from else f"created until {filters.date_to}")
    for label, values in (("source", filters.sources), ("persona", filters.personas), ("owner", filters.owners)):
        if values:
            parts.append(f"{label} {' or '.join(values)}")
    return ", ".join(parts) or "all leads"


def unknown(what: str, value: str, valid: Sequence[str], where: str, note: str = "",
            near: Sequence[str] | None = None) -> str:
    """``no source 'SEO' in the data (did you mean seo?); valid sources (channels as stored): ppc, seo``.

    ``near``: the suggestions, when not the valid values that differ from ``value`` in case or spacing only.
    """
    if near is None:
        near = [v for v in valid if _loose(v) == _loose(value)]
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    shown = ", ".join(list(valid)[:_SHOWN]) + (f", ... ({len(valid):,} in all)" if len(valid) > _SHOWN else "")
    listed = f"valid {what}s{note}: {shown}" if valid else f"there are no {what}s {where}"
    return f"no {what} {value!r} {where}{hint}; {listed}"


def _loose(text: str) -> str:
    """Case and spacing ignored: ``Paid Search``, ``paid_search`` and ``paid-search`` are alike."""
    return re.sub(r"[\s_\-]+", "", text.casefold())


def _values(table: ir.Table, column: str) -> list[str]:
    """The distinct non-null values of ``column``, sorted."""
    rows = fetch_rows(table.filter(table[column].notnull()).select(column).distinct())
    return sorted(str(r[column]) for r in rows)


def _resolve_owners(journeys: Journeys, given: Iterable[str]) -> tuple[str, ...]:
    """Owner names, each given as a name or as its pseudonym; an unknown one raises, listing the owners as the
    dashboard shows them (pseudonyms unless ``[privacy] show_owners``)."""
    from leadjourney.privacy import owner_pseudonym, pseudonym_salt

    everyone = journeys.everyone()
    owners = everyone.filter(everyone.owner.notnull()).select("owner").distinct()
    rows = fetch_rows(owners.mutate(pseudonym=owner_pseudonym(owners.owner, pseudonym_salt(journeys.backend))))
    names = {str(r["owner"]) for r in rows}
    by_pseudonym: dict[str, list[str]] = {}
    for r in rows:
        by_pseudonym.setdefault(str(r["pseudonym"]), []).append(str(r["owner"]))
    out: list[str] = []
    for value in given:
        if value in names:
            out.append(value)
        elif value in by_pseudonym:
            out += sorted(by_pseudonym[value])
        else:
            named = journeys.config.show_owners  # else the names stay out of the message, as on the dashboard
            near = sorted(p for p, of in by_pseudonym.items() for n in of if _loose(n) == _loose(value))
            shown = sorted(names) if named else sorted(by_pseudonym)
            note = "" if named else " (as pseudonyms; their names work too)"
            raise SelectionError(unknown("owner", value, shown, "among the people's owners", note,
                                         None if named else near))
    return tuple(dict.fromkeys(out))
