"""The derived ``person_engagement`` table: per person, what speed-to-lead and dark leads read of their touches.

Speed-to-lead needs each person's first human touch at or after their inbound signal; dark leads
need their last touch and the touch that ended their first long silence. Computed over ~8M
touches that is most of an analysis' time, and for a filtered selection it first means finding
the selection's touches; but each value belongs to one person and does not depend on who else
is selected. So ingest computes them once for everyone, after ``person_touches`` and
``person_journeys``, and a selection's analysis reads its people's rows.

Columns (one row per person, NULL where there is no such touch):

* ``person_key`` (see :func:`~leadjourney.ingest.person_journeys.person_keys`);
* ``last_touch_at``: the latest touch;
* ``first_form_fill_at`` and ``first_human_after_form_at``: the first ``form_fill`` touch and the first
  touch with ``actor = 'human'`` at or after it;
* ``first_human_after_stage_at``: the first human touch at or after the person's first dated entry
  into the signal stage (``at_<signal_index>`` of ``person_journeys``);
* ``re_at``, ``re_kind``: the touch ending the person's first silence of ``dark_after_days`` or more
  (same-instant touches: the alphabetically first kind).

The values hold for an analysis whose as-of date is on or after the latest touch and whose
signal stage and ``dark_after_days`` are the ones the table was built for (:func:`stored_for`
tells); otherwise the analysis computes the same columns live with :func:`person_engagement`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import ibis
import ibis.expr.types as ir

from leadjourney.db import one
from leadjourney.engine import fetch_rows
from leadjourney.ingest import person_journeys, person_touches
from leadjourney.ingest.sql import compiled_sql

TABLE = "person_engagement"
COLUMNS = ("last_touch_at", "first_form_fill_at", "first_human_after_form_at", "first_human_after_stage_at",
           "re_at", "re_kind")
FINGERPRINT_KEY = "person_engagement_fingerprint"
IN_JOURNEYS_KEY = person_journeys.ENGAGEMENT_KEY  # this table's fingerprint when its columns were added there
PARAMETERS_KEY = "person_engagement_parameters"
VERSION = "v1"
HUMAN = "human"
FORM_FILL = "form_fill"


def signal_stage_index(stage_names: Sequence[str]) -> int:
    """The stage that starts the speed-to-lead clock in ``mql`` mode: the one named MQL, else the second stage."""
    for i, name in enumerate(stage_names):
        if name.strip().lower() == "mql":
            return i
    return 1 if len(stage_names) > 1 else 0


@dataclass(frozen=True)
class Parameters:
    """What the stored values depend on besides the touches: the stages, the signal stage, the silence."""

    stages: str  # person_journeys.stages_digest of the configured stages
    signal_index: int
    dark_after_days: int
    latest_touch: datetime | None = None  # the latest touch the table covers

    @classmethod
    def of(cls, stage_names: Sequence[str], dark_after_days: int) -> Parameters:
        """The parameters a configuration asks for."""
        return cls(person_journeys.stages_digest(stage_names), signal_stage_index(stage_names), dark_after_days)

    def serves(self, wanted: Parameters, as_of: datetime) -> bool:
        """Whether a table built for these parameters answers ``wanted`` as of ``as_of``."""
        return ((self.stages, self.signal_index, self.dark_after_days)
                == (wanted.stages, wanted.signal_index, wanted.dark_after_days)
                and (self.latest_touch is None or as_of >= self.latest_touch))


def re_engagements(touches: ir.Table, days: int) -> ir.Table:
    """person_key, re_at, re_kind, gap_days: the touch ending each person's first silence of ``days``.

    ``touches`` are ``person_touches`` rows (``gap_seconds`` is computed there, with same-instant
    touches ordered by kind and 0 after the first).
    """
    gaps = touches.filter(touches.gap_seconds >= days * 86400)
    gaps = gaps.select("person_key", re_at="occurred_at", re_kind="kind",
                       gap_days=(gaps.gap_seconds / 86400.0).cast("float64"))
    first = gaps.mutate(k=ibis.row_number().over(ibis.window(group_by="person_key", order_by=["re_at", "re_kind"])))
    return first.filter(first.k == 0).drop("k")


def person_engagement(touches: ir.Table, people: ir.Table, signal_index: int, days: int) -> ir.Table:
    """The table's columns for ``people`` (``person_journeys`` rows) from their ``touches`` (``person_touches`` rows).

    This is the stored table's query (over everyone) and what an analysis computes live for its
    selection when the stored table does not apply.
    """
    keys = people.select("person_key", stage_at=people[f"at_{signal_index}"])
    last = touches.group_by("person_key").aggregate(last_touch_at=touches.occurred_at.max())
    fills = touches.filter(touches.kind == FORM_FILL)
    form = fills.group_by("person_key").aggregate(first_form_fill_at=fills.occurred_at.min())
    signals = keys.left_join(form, "person_key").drop("person_key_right")
    human = touches.filter(touches.actor == HUMAN).select("person_key", "occurred_at")
    after = human.join(signals, "person_key")
    first = after.group_by("person_key").aggregate(
        first_human_after_form_at=after.occurred_at.min(where=after.occurred_at >= after.first_form_fill_at),
        first_human_after_stage_at=after.occurred_at.min(where=after.occurred_at >= after.stage_at),
    )
    back = re_engagements(touches, days).select("person_key", "re_at", "re_kind")
    joined = (
        signals.left_join(last, "person_key").drop("person_key_right")
        .left_join(first, "person_key").drop("person_key_right")
        .left_join(back, "person_key").drop("person_key_right")
    )
    return joined.select("person_key", *COLUMNS)


def fingerprint(con: duckdb.DuckDBPyConnection, parameters: Parameters) -> str:
    """What the table derives from: both derived tables' own fingerprints, and the parameters."""
    inputs = [one(con, "SELECT value FROM meta WHERE key = ?", [key])
              for key in (person_touches.FINGERPRINT_KEY, person_journeys.FINGERPRINT_KEY)]
    touches, journeys = (str(r[0]) if r else "" for r in inputs)
    return fingerprint_of(touches, journeys, parameters)


def fingerprint_of(touches: str, journeys: str, parameters: Parameters) -> str:
    """The fingerprint of a table built from person_touches and person_journeys with these fingerprints."""
    return ":".join([VERSION, touches, journeys, parameters.stages, str(parameters.signal_index),
                     str(parameters.dark_after_days)])


def parameters_text(parameters: Parameters, latest_touch: str | None) -> str:
    """What ``meta`` keeps under :data:`PARAMETERS_KEY` (:func:`stored_for` reads it)."""
    return json.dumps({"stages": parameters.stages, "signal_index": parameters.signal_index,
                       "dark_after_days": parameters.dark_after_days, "latest_touch": latest_touch})


def refresh_person_engagement(con: duckdb.DuckDBPyConnection, parameters: Parameters,
                              journeys: str = person_journeys.TABLE) -> bool:
    """Rebuild the table when its inputs or parameters changed since the last build; True when rebuilt.
    ``journeys``: the table holding the person_journeys rows (:data:`~leadjourney.ingest.person_journeys.STAGED`
    while ingest writes them)."""
    digest = fingerprint(con, parameters)
    stored = one(con, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    if stored is not None and stored[0] == digest:
        return False
    query = compiled_sql(con, TABLE, (journeys, parameters.signal_index, parameters.dark_after_days),
                         (person_touches.TABLE, journeys),
                         lambda backend: person_engagement(backend.table(person_touches.TABLE), backend.table(journeys),
                                                           parameters.signal_index, parameters.dark_after_days))
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {query}")
    remember(con, digest, parameters)
    return True


def remember(con: duckdb.DuckDBPyConnection, digest: str, parameters: Parameters) -> None:
    """Record in ``meta`` what the table was built from and for (the latest touch it covers included)."""
    latest = one(con, f"SELECT max(occurred_at) FROM {person_touches.TABLE}")
    stamp = latest[0].isoformat() if latest and latest[0] is not None else None
    con.execute("DELETE FROM meta WHERE key IN (?, ?)", [FINGERPRINT_KEY, PARAMETERS_KEY])
    con.execute("INSERT INTO meta VALUES (?, ?), (?, ?)",
                [FINGERPRINT_KEY, digest, PARAMETERS_KEY, parameters_text(parameters, stamp)])


def refresh_engagement_columns(con: duckdb.DuckDBPyConnection, journeys: str = person_journeys.TABLE) -> bool:
    """Add (or replace) this table's columns in ``person_journeys``, when either table was rebuilt since:
    a selection's people then carry their engagement, and its analyses read one table instead of
    joining two. True when added. ``journeys``: where the person_journeys rows are (another table: the rows
    just rebuilt, :data:`~leadjourney.ingest.person_journeys.STAGED`, written into person_journeys once here)."""
    fingerprint = one(con, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    merged = one(con, "SELECT value FROM meta WHERE key = ?", [IN_JOURNEYS_KEY])
    has = {r[0] for r in con.execute(f"DESCRIBE {journeys}").fetchall()} >= set(COLUMNS)
    if fingerprint is None or (merged is not None and merged[0] == fingerprint[0] and has
                               and journeys == person_journeys.TABLE):
        return False
    keep = f"* EXCLUDE ({', '.join(COLUMNS)})" if has else "*"
    con.execute(f"CREATE OR REPLACE TABLE {person_journeys.TABLE} AS SELECT j.{keep}, "
                f"{', '.join('e.' + c for c in COLUMNS)} FROM {journeys} j "
                f"LEFT JOIN {TABLE} e USING (person_key) ORDER BY j.created_at")  # the order person_journeys has
    if journeys != person_journeys.TABLE:
        con.execute(f"DROP TABLE {journeys}")
    con.execute("DELETE FROM meta WHERE key = ?", [IN_JOURNEYS_KEY])
    con.execute("INSERT INTO meta VALUES (?, ?)", [IN_JOURNEYS_KEY, fingerprint[0]])
    return True


def in_journeys(backend: ibis.BaseBackend) -> bool:
    """Whether ``person_journeys`` carries this table's columns as the table now holds them."""
    meta = backend.table("meta")
    rows = {r["key"]: r["value"] for r in fetch_rows(meta.filter(meta.key.isin([FINGERPRINT_KEY, IN_JOURNEYS_KEY])))}
    return FINGERPRINT_KEY in rows and rows.get(IN_JOURNEYS_KEY) == rows[FINGERPRINT_KEY]


def stored_for(backend: ibis.BaseBackend) -> Parameters | None:
    """The parameters the stored table was built for (None when there is none)."""
    meta = backend.table("meta")
    rows = {r["key"]: r["value"] for r in fetch_rows(meta.filter(meta.key.isin([FINGERPRINT_KEY, PARAMETERS_KEY])))}
    if FINGERPRINT_KEY not in rows or PARAMETERS_KEY not in rows:
        return None
    kept = json.loads(rows[PARAMETERS_KEY])
    latest = kept.get("latest_touch")
    return Parameters(kept["stages"], int(kept["signal_index"]), int(kept["dark_after_days"]),
                      None if latest is None else datetime.fromisoformat(latest))
