"""The derived ``person_touches`` table: every touchpoint of a person, with the silence before it.

Analyses of engagement (dark leads, speed-to-lead, the touchpoint inventory) need each
touch under its *person* (merged duplicates folded in, unqualified contacts left out) and
the time since that person's previous touch. Both cost a join and a sort over every
touchpoint, so ingest computes them once, after the identity pass, and only when the
leads' identities or the touchpoints changed (a fingerprint in ``meta`` tells).

Each touch carries the person's integer ``person_key`` (see
:func:`~leadjourney.ingest.person_journeys.person_keys`), for fast joins to the other per-person
tables, and not their id: writing that text for every touch was a fifth of the table's build CPU
(2.8 of 12 CPU s at 1M generated leads); ``person_journeys`` gives a key's id. ``gap_seconds`` is the
time since the person's previous touch (NULL for their first); touches at the same instant are ordered
by kind, so the alphabetically first kind carries the gap and the others 0. A later filter on ``occurred_at`` (an as-of date) keeps every
remaining gap right, since a touch's previous touch is never later than itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import ibis
import ibis.expr.types as ir

from leadjourney.db import one
from leadjourney.ingest.person_journeys import person_keys, within
from leadjourney.ingest.sql import compiled_sql

TABLE = "person_touches"
FINGERPRINT_KEY = "person_touches_fingerprint"
VERSION = "v3"  # v2: person_key; v3: no person_id. A table built by an earlier version is rebuilt at the next ingest
COLUMNS = ("person_key", "occurred_at", "kind", "channel", "actor", "gap_seconds")  # the table's, in order


def person_touches(backend: ibis.BaseBackend, keys: ir.Table | None = None,
                   between: tuple[str, str] | None = None) -> ir.Table:
    """The table's query over the canonical tables (also what an analysis runs when it is missing).

    ``keys`` (person_id, person_key): only these people's touches, with these keys; ``between``: the smallest
    and largest ``lead_id`` of their records (touches outside are not read)."""
    keys = person_keys(backend).select("person_id", "person_key") if keys is None else keys
    owners = within(backend.table("leads"), between).select("lead_id", "person_id").join(keys, "person_id")
    touches = within(backend.table("touchpoints"), between).join(owners, "lead_id")  # people only
    previous = touches.occurred_at.lag().over(ibis.window(group_by="person_key", order_by=["occurred_at", "kind"]))
    gap = touches.occurred_at.epoch_seconds() - previous.epoch_seconds()
    return touches.select(*COLUMNS[:-1], gap_seconds=gap.cast("float64"))


HASHED = {"leads": "hash(lead_id, person_id, excluded_as)",  # per table, what fingerprint() sums over its rows
          "touchpoints": "hash(lead_id, occurred_at, kind, channel, actor)"}


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A cheap digest of what the table derives from: who is whom, and the touchpoints."""
    return fingerprint_of([one(con, f"SELECT count(*), sum({h}) FROM {t}") or () for t, h in HASHED.items()])


def fingerprint_of(sums: Sequence[Sequence[object]]) -> str:
    """The fingerprint of each :data:`HASHED` table's row count and sum of hashes (an incremental ingest adds up
    the changed rows' instead: :mod:`~leadjourney.ingest.person_changes`)."""
    return ":".join(str(v) for v in (VERSION, *(v for part in sums for v in part)))


def refresh_person_touches(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the table when its inputs changed since the last build; True when rebuilt."""
    digest = fingerprint(con)
    stored = one(con, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    if stored is not None and stored[0] == digest:
        return False
    query = compiled_sql(con, TABLE, None, ("leads", "touchpoints"), person_touches)
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {query}")
    con.execute("DELETE FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    con.execute("INSERT INTO meta VALUES (?, ?)", [FINGERPRINT_KEY, digest])
    return True
