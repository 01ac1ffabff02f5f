"""Whole-workspace passes after every ingest: created dates of undated leads, derived
first-stage events, unqualified-contact exclusions and duplicate people.

A lead whose file gave no created date takes its earliest dated stage event's
(``created_at_from = 'stage_event'``); one without any stays undated (``created_at``
NULL): date filters leave it out, the whole-population funnel counts it.

They are recomputed from the loaded rows each time, so a change to the
config's exclusions or dedupe policy takes effect at the next ingest; an ingest
that changed a few leads only recomputes those (with every lead sharing an
e-mail hash with one of them: see :mod:`~leadjourney.ingest.person_changes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from leadjourney import schema
from leadjourney.config import Config
from leadjourney.db import one, scalar
from leadjourney.ingest.sql import ident, lit

DERIVED_ORIGIN = "derived:created_at"


@dataclass(frozen=True)
class IdentitySummary:
    derived_first_stage_events: int
    excluded_leads: int
    duplicate_people: int
    dated_from_stage_events: int = 0  # leads whose created date is their earliest stage event's
    undated_leads: int = 0  # leads without any created date


def refresh_identity(con: duckdb.DuckDBPyConnection, config: Config, leads: str | None = None) -> IdentitySummary:
    """Recompute derived events, ``excluded_as``, ``duplicate_of`` and ``person_id``: of every lead, or of those
    whose ``lead_id`` is in the table named ``leads`` (which must hold whole e-mail-hash groups)."""
    only = f" AND {lead_in(con, leads)}" if leads else ""
    con.execute(f"DELETE FROM stage_events WHERE origin = ?{only}", [DERIVED_ORIGIN])
    _date_undated_leads(con, only)
    first = config.stages[0]
    derived = 0
    if not first.optional:
        # Every lead entered the first stage when it was created, whether or not the CRM logged it;
        # when that date is only its earliest stage event's, the first stage's date is unknown (no
        # zero-length first stage in time-in-stage)
        file_date = f"l.created_at_from = {lit(schema.CREATED_FROM_FILE)}"
        con.execute(f"""
            INSERT INTO stage_events (lead_id, stage, stage_raw, entered_at, entered_at_is_date, origin)
            SELECT l.lead_id, {lit(first.name)}, NULL, CASE WHEN {file_date} THEN l.created_at END,
                   CASE WHEN {file_date} THEN l.created_at_is_date END, {lit(DERIVED_ORIGIN)}
            FROM (SELECT * FROM leads WHERE TRUE{only}) l
                 ANTI JOIN (SELECT lead_id FROM stage_events WHERE stage = {lit(first.name)}{only}) e
                 ON e.lead_id = l.lead_id
        """)
        derived = int(scalar(con, f"SELECT count(*) FROM stage_events WHERE origin = {lit(DERIVED_ORIGIN)}"))
    rules = " ".join(
        f"WHEN regexp_matches(coalesce({ident(r.field)}, ''), {lit(r.pattern)}, 'i') THEN {lit(r.name)}"
        for r in config.exclusions
    )
    excluded = f"CASE {rules} END" if rules else "NULL"
    person = "coalesce(r.dup, r.lead_id)" if config.dedupe_policy == "merge" else "r.lead_id"
    con.execute(f"""
        UPDATE leads SET excluded_as = r.excluded, duplicate_of = r.dup, person_id = {person}
        FROM (
            SELECT lead_id, {excluded} AS excluded,
                   CASE WHEN email_hash IS NOT NULL THEN nullif(first_value(lead_id) OVER (
                       PARTITION BY email_hash ORDER BY created_at NULLS LAST, lead_id), lead_id) END AS dup
            FROM leads WHERE TRUE{only}
        ) r
        WHERE leads.lead_id = r.lead_id
    """)
    return IdentitySummary(
        derived_first_stage_events=derived,
        excluded_leads=scalar(con, "SELECT count(*) FROM leads WHERE excluded_as IS NOT NULL"),
        duplicate_people=scalar(con, "SELECT count(*) FROM leads WHERE duplicate_of IS NOT NULL"),
        dated_from_stage_events=scalar(
            con, f"SELECT count(*) FROM leads WHERE created_at_from = {lit(schema.CREATED_FROM_STAGE_EVENT)}"),
        undated_leads=scalar(con, "SELECT count(*) FROM leads WHERE created_at IS NULL"),
    )


def lead_in(con: duckdb.DuckDBPyConnection, ids: str, column: str = "lead_id") -> str:
    """A condition: ``column`` is in the same column of the table named ``ids``; with the range of its ids first,
    as constants (DuckDB then skips the row groups outside it)."""
    lowest, highest = one(con, f"SELECT min({column}), max({column}) FROM {ids}") or (None, None)
    between = f"{column} BETWEEN {lit(str(lowest))} AND {lit(str(highest))} AND " if lowest is not None else ""
    return f"{between}{column} IN (SELECT {column} FROM {ids})"


def _date_undated_leads(con: duckdb.DuckDBPyConnection, only: str) -> None:
    """Recompute ``created_at_from`` and the created dates taken from stage events (``only``: a condition on
    ``lead_id`` that picks the leads, appended to each WHERE). Of events at the earliest instant, a timed one
    makes the date timed (``(entered_at, entered_at_is_date)`` orders false first), whichever the engine meets
    first."""
    from_events, from_file = lit(schema.CREATED_FROM_STAGE_EVENT), lit(schema.CREATED_FROM_FILE)
    con.execute(f"UPDATE leads SET created_at = NULL, created_at_is_date = NULL, created_at_from = NULL "
                f"WHERE created_at_from = {from_events}{only}")
    con.execute(f"UPDATE leads SET created_at_from = {from_file} "
                f"WHERE created_at IS NOT NULL AND created_at_from IS NULL{only}")
    con.execute(f"""
        UPDATE leads SET created_at = e.at, created_at_is_date = e.is_date, created_at_from = {from_events}
        FROM (
            SELECT lead_id, min(entered_at) AS at, arg_min(entered_at_is_date, (entered_at, entered_at_is_date)) AS is_date
            FROM stage_events WHERE entered_at IS NOT NULL AND origin <> {lit(DERIVED_ORIGIN)}{only} GROUP BY lead_id
        ) e
        WHERE leads.lead_id = e.lead_id AND leads.created_at IS NULL
    """)
