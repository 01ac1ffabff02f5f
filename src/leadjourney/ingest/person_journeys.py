"""The derived ``person_journeys`` table: one row per person, their lead fields and stage entries.

Every analysis starts from the same per-person table: a person's own lead record (created_at,
source, status, firmographics, owner) and, for each configured stage, whether and when they
first entered it. Pivoting ~1.5M stage events under 1M people costs about a second, so ingest
computes it once, after the identity pass, and only when the leads, the stage events or the
configured stages or personas changed (a fingerprint in ``meta`` tells). An analysis reads it when
it was built for the stages the config names now, else runs the same query live; and reads its
``persona`` when it was built for the config's ``[[personas]]``, else assigns personas live.

Columns: the :data:`PERSON_COLUMNS`, ``person_key`` (see :func:`person_keys`), ``persona`` (see
:mod:`~leadjourney.ingest.persona_rules`), ``top`` (the furthest configured stage entered, NULL for
none), per configured stage ``i`` (in config order) ``has_i`` (entered) and ``at_i`` (first
dated entry, NULL when never dated), and ``won_deals`` / ``won_amount``: how many won opportunities
with an amount the person's records have, and their sum (NULL for none). Ingest then adds the
:mod:`~leadjourney.ingest.person_engagement` columns (:func:`~leadjourney.ingest.person_engagement.refresh_engagement_columns`),
so that a selection's analysis reads one table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import ibis
import ibis.expr.types as ir

from leadjourney.config import Persona
from leadjourney.db import one
from leadjourney.engine import fetch_rows
from leadjourney.ingest.persona_rules import persona_column
from leadjourney.ingest.sql import compiled_sql

TABLE = "person_journeys"
FINGERPRINT_KEY = "person_journeys_fingerprint"
ENGAGEMENT_KEY = "person_engagement_in_journeys"  # see person_engagement.refresh_engagement_columns
VERSION = "v4"  # v2: person_key; v3: persona, won deals; v4: in creation order
PERSON_COLUMNS = ("person_id", "created_at", "source", "status", "job_title", "industry", "employee_count", "owner")


def person_keys(backend: ibis.BaseBackend) -> ir.Table:
    """Every person (their own, not excluded, lead record) with ``person_key``, a dense integer.

    The derived tables carry it so that joining ~8M touches to their people, and grouping them
    per person, runs on integers (about twice as fast as on the id text). It numbers the people in
    id order, so every table built from the same people has the same keys.
    """
    people = own_records(backend.table("leads"))
    return people.mutate(person_key=ibis.row_number().over(order_by="person_id").cast("int64"))


def within(table: ir.Table, between: tuple[str, str] | None) -> ir.Table:
    """``table``'s rows with a ``lead_id`` in the range ``between`` (a constant range: DuckDB skips the row groups
    outside it); all of them for None."""
    return table if between is None else table.filter(table.lead_id.between(*between))


def own_records(leads: ir.Table) -> ir.Table:
    """The people's own lead records: not excluded, not a duplicate of another."""
    return leads.filter(leads.excluded_as.isnull() & (leads.lead_id == leads.person_id))


def person_journeys(backend: ibis.BaseBackend, stage_names: Sequence[str], personas: Sequence[Persona] = (),
                    keys: ir.Table | None = None, between: tuple[str, str] | None = None) -> ir.Table:
    """The table's query over the canonical tables (also what an analysis runs when it is stale).

    ``keys`` (person_id, person_key): only these people's rows, with these keys (an ingest that changed
    some people rebuilds their rows only; see :mod:`~leadjourney.ingest.person_changes`); ``between``: the
    smallest and largest ``lead_id`` of their records (rows outside are not read)."""
    leads = within(backend.table("leads"), between)
    owners = leads.select("lead_id", "person_id")
    if keys is None:
        people = person_keys(backend)
    else:
        people = own_records(leads).join(keys, "person_id")
        owners = owners.semi_join(keys, "person_id")
    people = people.select(*PERSON_COLUMNS, "person_key")
    people = people.mutate(persona=persona_column(people, tuple(personas)))
    events = within(backend.table("stage_events"), between)
    events = events.filter(events.stage.isin(list(stage_names))).join(owners, "lead_id")
    idx = events.stage.cases(*[(n, i) for i, n in enumerate(stage_names)], else_=ibis.null("int32"))
    events = events.select("person_id", "entered_at", idx=idx)
    per_person = events.group_by("person_id").aggregate(
        top=events.idx.max(),
        **{f"has_{i}": (events.idx == i).any() for i in range(len(stage_names))},
        **{f"at_{i}": events.entered_at.min(where=events.idx == i) for i in range(len(stage_names))},
    )
    opps = within(backend.table("opportunities"), between)
    won = opps.filter(opps.is_won.fill_null(False) & opps.amount.notnull()).join(owners, "lead_id")
    deals = won.group_by("person_id").aggregate(won_deals=won.count(), won_amount=won.amount.sum())
    # the left joins keep exactly the people: events and deals of excluded contacts fall away here
    return (people.left_join(per_person, "person_id").drop("person_id_right")
            .left_join(deals, "person_id").drop("person_id_right"))


def stages_digest(stage_names: Sequence[str]) -> str:
    """A short digest of the configured stages, in order (the table's columns depend on them), and of
    the table's layout version (a table an earlier version built is read as stale)."""
    return hashlib.sha256("\n".join((VERSION, *stage_names)).encode()).hexdigest()[:16]


def personas_digest(personas: Sequence[Persona]) -> str:
    """A short digest of the ``[[personas]]`` rules, in order (the ``persona`` column depends on them)."""
    return hashlib.sha256(repr(tuple(personas)).encode()).hexdigest()[:16]


HASHED = {"leads": f"hash({', '.join(('lead_id', 'excluded_as', *PERSON_COLUMNS))})",  # what fingerprint() sums
          "stage_events": "hash(lead_id, stage, entered_at)", "opportunities": "hash(lead_id, amount, is_won)"}


def fingerprint(con: duckdb.DuckDBPyConnection, stage_names: Sequence[str], personas: Sequence[Persona] = ()) -> str:
    """A cheap digest of what the table derives from: the people's fields, the stage events, the won
    opportunities, the stages and the persona rules (the last two parts: :func:`built_for`)."""
    sums = [one(con, f"SELECT count(*), sum({h}) FROM {t}") or () for t, h in HASHED.items()]
    return fingerprint_of(sums, stage_names, personas)


def fingerprint_of(sums: Sequence[Sequence[object]], stage_names: Sequence[str], personas: Sequence[Persona]) -> str:
    """The fingerprint of each :data:`HASHED` table's row count and sum of hashes, the stages and the personas."""
    return ":".join(str(v) for v in (*(v for part in sums for v in part), stages_digest(stage_names),
                                      personas_digest(personas)))


STAGED = "person_journeys_staged"  # a temporary table: the rebuilt rows before ingest adds the engagement columns


def refresh_person_journeys(con: duckdb.DuckDBPyConnection, stage_names: Sequence[str],
                            personas: Sequence[Persona] = (), *, staged: bool = False) -> bool:
    """Rebuild the table when its inputs changed since the last build; True when rebuilt.

    ``staged=True`` writes the rows, unsorted, into the temporary table :data:`STAGED` instead, for a caller that
    writes the table once, in creation order, with more columns (ingest adds the engagement columns that way:
    :func:`~leadjourney.ingest.person_engagement.refresh_engagement_columns`)."""
    digest = fingerprint(con, stage_names, personas)
    stored = one(con, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    if stored is not None and stored[0] == digest:
        return False
    query = compiled_sql(con, TABLE, (tuple(stage_names), repr(tuple(personas))),
                         ("leads", "stage_events", "opportunities"),
                         lambda backend: person_journeys(backend, stage_names, personas))
    if staged:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS {query}")
    else:  # in creation order: a date-range selection then reads only the row groups of its dates
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM ({query}) ORDER BY created_at")
    con.execute("DELETE FROM meta WHERE key IN (?, ?)", [FINGERPRINT_KEY, ENGAGEMENT_KEY])  # engagement columns gone
    con.execute("INSERT INTO meta VALUES (?, ?)", [FINGERPRINT_KEY, digest])
    return True


def built_for(backend: ibis.BaseBackend) -> tuple[str, str] | None:
    """The (stages, personas) digests the stored table was built for (None when there is no stored table,
    or an earlier version built it)."""
    meta = backend.table("meta")
    rows = fetch_rows(meta.filter(meta.key == FINGERPRINT_KEY).select("value"))
    if not rows:
        return None
    parts = str(rows[0]["value"]).rsplit(":", 2)
    return (parts[1], parts[2]) if len(parts) == 3 else None
