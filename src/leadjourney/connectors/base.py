"""What a connector declares: its objects, how to count and page them, how they map to canonical tables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ObjectSpec:
    """One object a system is pulled by (a Salesforce sObject, a HubSpot object, a GA4 report).

    ``key`` identifies a record (the latest version of each key is kept); ``cursor`` is the
    field the high-water mark follows (ISO-8601 text or anything that sorts as text the way
    it sorts in time); pages must come in ascending cursor order, so a pull interrupted
    after a page resumes after it. ``personal`` names fields holding e-mail addresses: stored
    only as the workspace's salted hash unless ``[privacy] keep_emails``. ``version`` names
    fields that can change while the cursor does not (GA4's metrics for a date still settling):
    a record re-read with other values there is stored as a new version, the latest kept.
    ``overlap`` is how far before the high-water mark a pull re-reads (None: the
    ``overlap_minutes`` option); a cursor holding dates re-reads whole days.
    """

    name: str
    key: tuple[str, ...]
    cursor: str
    personal: tuple[str, ...] = ()
    version: tuple[str, ...] = ()
    overlap: timedelta | None = None


@dataclass(frozen=True)
class CanonicalQuery:
    """A canonical table built from pulled objects, by DuckDB SQL over views named as the objects.

    Written to ``pulls/SYSTEM/<name>.parquet`` and registered as the source ``SYSTEM_<name>``;
    built only when every object in ``objects`` has been pulled. Its columns are canonical
    names (``lead_id``, ``created_at``, ...; ``email`` holds what the raw store kept: the salted
    hash unless ``[privacy] keep_emails``).
    """

    name: str  # e.g. "leads", "lead_history", "tasks"
    table: str  # leads | stage_events | touchpoints | opportunities
    sql: str
    objects: tuple[str, ...]


class Connector(Protocol):
    """A system's API client, as the pull workflow drives it."""

    system: str

    @property
    def objects(self) -> tuple[ObjectSpec, ...]:
        """Every object this connector can pull, in pull order."""

    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        """How many records a pull would fetch (``--dry-run``), None when the API cannot say cheaply."""

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        """The records changed at or after ``since`` (all when None), page by page, in ascending cursor order."""

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        """How the pulled objects become canonical tables."""
