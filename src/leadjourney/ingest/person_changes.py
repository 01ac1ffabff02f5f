"""Which people an ingest changed, and their derived rows rebuilt alone.

An ingest that adds a few files (a connector's incremental pull, a day's export) changes a few
people; rebuilding ``person_touches``, ``person_journeys`` and ``person_engagement`` for everyone
would cost about as much as loading everything. So, when the derived tables were built from the
workspace as it is and for the configuration as it is, ingest notes the rows each source replaces
and the rows it loads (:class:`Changes`), and afterwards:

1. the changed leads: those with a row in ``leads``, ``stage_events``, ``touchpoints`` or
   ``opportunities`` gone, new or different (provenance and identity columns aside), and every lead
   sharing an e-mail hash with one of them (a new record can make an older one its duplicate);
2. the identity pass runs for those leads and the leads the sources loaded again (their identity
   columns start empty), each with its e-mail hash's group, only
   (:func:`~leadjourney.ingest.identity.refresh_identity`);
3. the affected people are those leads' persons before and after; when people came or went, every
   person whose id sorts after the first of them too (``person_key`` numbers the people in id order);
4. their rows are deleted from the three tables and built again by the same queries, restricted
   to them, in the ingest's transaction. Their fingerprints in ``meta`` (row counts and sums of row hashes)
   are brought up to date by adding the changed rows' hashes (what the sources replaced and loaded, what
   the identity pass rewrote), without reading every row again: the same strings a full rebuild stores.

Anything global rebuilds everything, as before: a change of what :func:`config_digest` covers (stages,
personas, silence, exclusions, dedupe policy, the tables' versions), a pruned source, derived tables
that do not match the workspace's row counts, or more than :data:`MAX_SHARE` of the people affected.
Either way the tables hold the same rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import duckdb
import ibis

from leadjourney import schema
from leadjourney.config import Config
from leadjourney.db import one, scalar
from leadjourney.ingest import person_engagement, person_journeys, person_touches
from leadjourney.ingest.identity import DERIVED_ORIGIN, lead_in
from leadjourney.ingest.sql import lit

CONFIG_KEY = "person_tables_config"  # meta: config_digest() of the configuration the derived tables were built for
TRACKED = ("leads", "stage_events", "touchpoints", "opportunities")  # what the per-person tables derive from
MAX_SHARE = 0.2  # more people affected than this share of everyone: rebuild everything (one pass is cheaper)
ROWS = "person_changes_rows"  # temporary tables, dropped at the end
LEADS = "person_changes_leads"
CHANGED = "person_changes_changed"
MEMBERS = "person_changes_members"
PEOPLE = "person_changes_people"
KEYS = "person_changes_keys"
OLD_KEYS = "person_changes_old_keys"
_OWN = "excluded_as IS NULL AND lead_id = person_id"  # a person's own record (see person_journeys.own_records)
_FINGERPRINTED = (person_touches.HASHED, person_journeys.HASHED)  # the fingerprints summing row hashes (f0, f1)
_NOT_HASHED = {"origin", "source_file", "source_row",  # provenance; identity's own columns:
               "created_at", "created_at_is_date", "created_at_from", "excluded_as", "duplicate_of", "person_id"}


def config_digest(config: Config) -> str:
    """What the derived tables depend on besides the rows: a change of any rebuilds everything."""
    parts = (
        [asdict(s) for s in config.stages], repr(tuple(config.personas)), config.dark_after_days,
        repr(tuple(config.exclusions)), config.dedupe_policy, schema.SCHEMA_VERSION,
        person_touches.VERSION, person_journeys.VERSION, person_engagement.VERSION,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _row_hash(table: str) -> str:
    """A hash of a row's columns that the derived tables read (a lead's created date only when the file gave it)."""
    columns = [c for c in schema.columns(table) if c not in _NOT_HASHED]
    if table == "leads":
        from_events = f"created_at_from = {lit(schema.CREATED_FROM_STAGE_EVENT)}"
        columns += [f"CASE WHEN {from_events} THEN NULL ELSE {c} END" for c in ("created_at", "created_at_is_date")]
    return f"hash({', '.join(columns)})"


class Changes:
    """The rows an ingest replaced and loaded, per source; :meth:`leads` then names the leads they changed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config) -> None:
        self.con = con
        self.tracking = derived_tables_current(con, config)
        self._identity_sums: dict[tuple[int, str], int] = {}  # before the identity pass, see _rewritten_sums()
        if self.tracking:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {ROWS} (sign TINYINT, tbl VARCHAR, lead_id VARCHAR, "
                        "email_hash VARCHAR, person_id VARCHAR, h UBIGINT, f0 UBIGINT, f1 UBIGINT)")

    def stop(self) -> None:
        """Rebuild everything after all (e.g. rows were pruned)."""
        self.tracking = False

    def before(self, origin: str) -> None:
        """Note the rows ``origin`` holds, about to be replaced."""
        self._note(origin, -1)

    def after(self, origin: str) -> None:
        """Note the rows ``origin`` loaded."""
        self._note(origin, 1)

    def _note(self, origin: str, sign: int) -> None:
        if not self.tracking:
            return
        for table in TRACKED:
            person = "email_hash, person_id" if table == "leads" else "NULL, NULL"
            fingerprinted = ", ".join(hashed.get(table, "NULL") for hashed in _FINGERPRINTED)
            self.con.execute(f"INSERT INTO {ROWS} SELECT {sign}, {lit(table)}, lead_id, {person}, {_row_hash(table)}, "
                             f"{fingerprinted} FROM {table} WHERE origin = ?", [origin])

    def leads(self) -> str | None:
        """The name of a temporary table of the ids of the leads the identity pass must see: the changed leads and
        those loaded again, each with every lead sharing its e-mail hash. Notes the affected persons so far (the
        changed leads' persons before the pass, :data:`PEOPLE`). None: not tracking."""
        if not self.tracking:
            return None
        con = self.con
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {ROWS}_changed AS SELECT tbl, lead_id, email_hash FROM {ROWS}
                        GROUP BY tbl, lead_id, email_hash, h HAVING sum(sign) <> 0""")
        con.execute(f"""  -- every lead sharing an e-mail hash with a lead replaced or loaded: one pass over leads
            CREATE OR REPLACE TEMP TABLE {MEMBERS} AS SELECT lead_id, email_hash FROM leads
            WHERE email_hash IN (SELECT email_hash FROM {ROWS} WHERE tbl = 'leads' AND email_hash IS NOT NULL)
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {CHANGED} AS
            SELECT DISTINCT lead_id FROM {ROWS}_changed WHERE lead_id IS NOT NULL
            UNION
            SELECT lead_id FROM {MEMBERS} WHERE email_hash IN (
                SELECT email_hash FROM {ROWS}_changed WHERE tbl = 'leads' AND email_hash IS NOT NULL)
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {LEADS} AS
            SELECT lead_id FROM {CHANGED}
            UNION
            SELECT lead_id FROM {ROWS} WHERE tbl = 'leads' AND sign > 0
            UNION
            SELECT lead_id FROM {MEMBERS}
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {PEOPLE} AS
            SELECT person_id FROM leads WHERE {lead_in(con, CHANGED)} AND person_id IS NOT NULL
            UNION
            SELECT person_id FROM {ROWS} WHERE sign < 0 AND tbl = 'leads' AND person_id IS NOT NULL
                AND lead_id IN (SELECT lead_id FROM {CHANGED})
        """)
        self._identity_sums = self._rewritten_sums()
        return LEADS

    def _rewritten_sums(self) -> dict[tuple[int, str], int]:
        """Per (fingerprint, table), the sum of hashes over the rows the identity pass rewrites (the leads it sees,
        their derived stage events)."""
        leads = lead_in(self.con, LEADS)
        scope = {"leads": leads, "stage_events": f"origin = {lit(DERIVED_ORIGIN)} AND {leads}"}
        return {(i, table): int(scalar(self.con, f"SELECT coalesce(sum({hashed[table]}), 0) FROM {table} WHERE {where}"))
                for i, hashed in enumerate(_FINGERPRINTED) for table, where in scope.items() if table in hashed}

    def _store_fingerprints(self, config: Config) -> None:
        """The three tables' fingerprints, from the stored ones plus the changed rows' hashes (the identity pass done)."""
        con = self.con
        rewritten = self._rewritten_sums()
        loaded = {(i, str(r[0])): int(r[1 + i] or 0) for r in con.execute(
            f"SELECT tbl, sum(CASE WHEN sign > 0 THEN f0::HUGEINT ELSE -f0::HUGEINT END), "
            f"sum(CASE WHEN sign > 0 THEN f1::HUGEINT ELSE -f1::HUGEINT END) FROM {ROWS} GROUP BY tbl").fetchall()
            for i in range(len(_FINGERPRINTED))}
        stored = [str(scalar(con, "SELECT value FROM meta WHERE key = ?", [key])).split(":")
                  for key in (person_touches.FINGERPRINT_KEY, person_journeys.FINGERPRINT_KEY)]
        old = [stored[0][1:5], stored[1][0:6]]  # count and sum per hashed table, in HASHED order
        sums = []
        for i, hashed in enumerate(_FINGERPRINTED):
            parts = []
            for j, table in enumerate(hashed):
                n = int(scalar(con, f"SELECT count(*) FROM {table}"))
                was = 0 if old[i][2 * j + 1] == "None" else int(old[i][2 * j + 1])
                now = (was + loaded.get((i, table), 0)
                       + rewritten.get((i, table), 0) - self._identity_sums.get((i, table), 0))
                parts.append((n, now if n else None))
            sums.append(parts)
        _store(con, person_touches.FINGERPRINT_KEY, person_touches.fingerprint_of(sums[0]))
        _store(con, person_journeys.FINGERPRINT_KEY,
               person_journeys.fingerprint_of(sums[1], config.stage_names, config.personas))
        parameters = person_engagement.Parameters.of(config.stage_names, config.dark_after_days)
        digest = person_engagement.fingerprint(con, parameters)
        person_engagement.remember(con, digest, parameters)
        _store(con, person_engagement.IN_JOURNEYS_KEY, digest)

    def rebuild_people(self, config: Config) -> int | None:
        """After the identity pass over :meth:`leads`: rebuild the affected people's derived rows; how many. None
        (and nothing done) when not tracking or too many people are affected: then rebuild everything."""
        if not self.tracking:
            return None
        con = self.con
        con.execute(f"INSERT INTO {PEOPLE} SELECT person_id FROM leads "
                    f"WHERE {lead_in(con, CHANGED)} AND person_id IS NOT NULL")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PEOPLE} AS SELECT DISTINCT person_id FROM {PEOPLE}")
        in_people = lead_in(con, PEOPLE, "person_id")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {OLD_KEYS} AS "  # their rows now: one pass over the table
                    f"SELECT person_id, person_key FROM {person_journeys.TABLE} WHERE {in_people}")
        first_moved = scalar(con, f"""
            SELECT min(person_id) FROM (
                (SELECT person_id FROM {OLD_KEYS} EXCEPT SELECT person_id FROM leads WHERE {_OWN} AND {in_people})
                UNION ALL
                (SELECT person_id FROM leads WHERE {_OWN} AND {in_people} EXCEPT SELECT person_id FROM {OLD_KEYS}))""")
        if first_moved is not None:  # people came or went: the keys of everyone after them move
            con.execute(f"INSERT INTO {OLD_KEYS} SELECT person_id, person_key FROM {person_journeys.TABLE} "
                        f"WHERE person_id > ? AND person_id NOT IN (SELECT person_id FROM {PEOPLE})", [first_moved])
            con.execute(f"CREATE OR REPLACE TEMP TABLE {PEOPLE} AS SELECT person_id FROM {PEOPLE} "
                        f"UNION SELECT person_id FROM {OLD_KEYS}")
        affected = int(scalar(con, f"SELECT count(*) FROM {PEOPLE}"))
        everyone = int(scalar(con, f"SELECT count(*) FROM {person_journeys.TABLE}"))
        if affected > MAX_SHARE * max(everyone, 1):
            return None
        if affected:  # else nobody's rows changed
            _rebuild(con, config, first_moved)
        self._store_fingerprints(config)
        return affected

    def close(self) -> None:
        """Drop the temporary tables."""
        for name in (ROWS, f"{ROWS}_changed", MEMBERS, CHANGED, LEADS, PEOPLE, OLD_KEYS, KEYS):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")


def _rebuild(con: duckdb.DuckDBPyConnection, config: Config, first_moved: str | None) -> None:
    """Delete and insert again the :data:`PEOPLE`'s rows of the three tables.
    ``first_moved``: the first person id that came or went (the keys from there on move), if any."""
    backend = ibis.duckdb.from_connection(con)
    in_people = lead_in(con, PEOPLE, "person_id")
    _number(con, first_moved)
    con.execute(f"DELETE FROM {person_engagement.TABLE} WHERE person_key IN (SELECT person_key FROM {OLD_KEYS})")
    con.execute(f"DELETE FROM {person_journeys.TABLE} WHERE {in_people}")
    con.execute(f"DELETE FROM {person_touches.TABLE} WHERE {lead_in(con, OLD_KEYS, 'person_key')}")  # by their keys
    key_table = backend.table(KEYS)
    lowest, highest = one(con, f"SELECT min(lead_id), max(lead_id) FROM leads WHERE {in_people}") or (None, None)
    between = None if lowest is None else (str(lowest), str(highest))  # their records' ids: a cheap pre-filter
    touches = person_touches.person_touches(backend, keys=key_table, between=between)
    con.execute(f"INSERT INTO {person_touches.TABLE} BY NAME {ibis.to_sql(touches, dialect='duckdb')}")
    staged = person_journeys.person_journeys(backend, config.stage_names, config.personas, key_table, between)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {person_journeys.STAGED} AS {ibis.to_sql(staged, dialect='duckdb')}")
    parameters = person_engagement.Parameters.of(config.stage_names, config.dark_after_days)
    stored = backend.table(person_touches.TABLE)
    engagement = person_engagement.person_engagement(
        stored.semi_join(key_table, "person_key"), backend.table(person_journeys.STAGED),
        parameters.signal_index, parameters.dark_after_days)
    con.execute(f"INSERT INTO {person_engagement.TABLE} BY NAME {ibis.to_sql(engagement, dialect='duckdb')}")
    columns = ", ".join(f"e.{c}" for c in person_engagement.COLUMNS)
    con.execute(f"INSERT INTO {person_journeys.TABLE} BY NAME SELECT j.*, {columns} FROM {person_journeys.STAGED} j "
                f"LEFT JOIN {person_engagement.TABLE} e USING (person_key)")
    con.execute(f"DROP TABLE {person_journeys.STAGED}")


def _number(con: duckdb.DuckDBPyConnection, first_moved: str | None) -> None:
    """The affected people's ``person_key`` (as :func:`~leadjourney.ingest.person_journeys.person_keys` numbers
    everyone, from 0 in id order) into :data:`KEYS`: the keys they had before the first id that came or went,
    the count of people before it plus their rank from there on."""
    kept = f"SELECT person_id, person_key FROM {OLD_KEYS} WHERE TRUE"  # before first_moved: the same people as before
    if first_moved is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} AS {kept}")
        return
    own = _OWN
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {KEYS} AS
        {kept} AND person_id < $first
        UNION ALL
        SELECT person_id, CAST(coalesce((SELECT min(person_key) FROM {OLD_KEYS} WHERE person_id >= $first),
                                        (SELECT count(*) FROM {person_journeys.TABLE}))  -- the people before it
                               + row_number() OVER (ORDER BY person_id) - 1 AS BIGINT)
        FROM leads WHERE {own} AND person_id >= $first
    """, {"first": first_moved})


def remember_config(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Record that the derived tables now match the workspace's rows and ``config`` (after a rebuild of any kind)."""
    _store(con, CONFIG_KEY, config_digest(config))


def _store(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


# the meta rows that describe the derived tables
_DESCRIBING = (CONFIG_KEY, person_touches.FINGERPRINT_KEY, person_journeys.FINGERPRINT_KEY,
               person_engagement.FINGERPRINT_KEY, person_engagement.IN_JOURNEYS_KEY, person_engagement.PARAMETERS_KEY)


def _derived_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    found = con.execute(f"SELECT key, value FROM meta WHERE key IN ({', '.join('?' * len(_DESCRIBING))})",
                        list(_DESCRIBING)).fetchall()
    return {str(k): str(v) for k, v in found}


def derived_tables_current(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """Whether the derived tables were built, for ``config``, from the rows the workspace holds (checked by the
    stored config digest and the row counts in the tables' fingerprints)."""
    meta = _derived_meta(con)
    if meta.get(CONFIG_KEY) != config_digest(config) or person_engagement.FINGERPRINT_KEY not in meta:
        return False
    if meta[person_engagement.FINGERPRINT_KEY] != meta.get(person_engagement.IN_JOURNEYS_KEY):
        return False
    return _built_from_rows_held(con, meta)


def derived_rows_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables were built from the rows the workspace holds, for whatever configuration (the
    row counts in person_touches' and person_journeys' fingerprints): the fingerprints ``meta`` keeps for them
    then describe the canonical tables as they are (:func:`meta_built_for`)."""
    return _built_from_rows_held(con, _derived_meta(con))


def _built_from_rows_held(con: duckdb.DuckDBPyConnection, meta: dict[str, str]) -> bool:
    touches = meta.get(person_touches.FINGERPRINT_KEY, "").split(":")
    journeys = meta.get(person_journeys.FINGERPRINT_KEY, "").split(":")
    counts = one(con, "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM touchpoints), "
                      "(SELECT count(*) FROM stage_events), (SELECT count(*) FROM opportunities)")
    return counts is not None and len(touches) == 5 and len(journeys) == 8 and (
        [touches[1], touches[3], journeys[2], journeys[4]] == [str(c) for c in counts])


def meta_built_for(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, str]:
    """The ``meta`` rows describing derived tables built for ``config`` from the rows the workspace holds
    (:func:`derived_rows_current` must hold): what ingest stores after rebuilding them for ``config``, from
    the stored row fingerprints (the canonical tables' counts and sums of row hashes, which no configuration
    changes) and ``config``'s stages, personas, signal stage and silence. An engine that builds the tables from
    the exported canonical ones for ``config`` keeps these in its copy of ``meta``, so that its analyses read
    them as built for the configuration (:mod:`leadjourney.table_export`). Equal to the stored rows when
    :func:`derived_tables_current`. (Exclusions and the dedupe policy act on the canonical leads, in the identity
    pass: an edit of those takes effect at the next ingest, on every engine alike.)"""
    meta = _derived_meta(con)
    touches = meta[person_touches.FINGERPRINT_KEY]
    rows = meta[person_journeys.FINGERPRINT_KEY].rsplit(":", 2)[0]  # the row parts, before the two digests
    journeys = f"{rows}:{person_journeys.stages_digest(config.stage_names)}:" \
               f"{person_journeys.personas_digest(config.personas)}"
    parameters = person_engagement.Parameters.of(config.stage_names, config.dark_after_days)
    kept = meta.get(person_engagement.PARAMETERS_KEY)
    if kept is not None:  # the latest touch: the same rows, the same touch
        latest = json.loads(kept).get("latest_touch")
    else:
        found = one(con, f"SELECT max(occurred_at) FROM {person_touches.TABLE}")
        latest = found[0].isoformat() if found and found[0] is not None else None
    engagement = person_engagement.fingerprint_of(touches, journeys, parameters)
    return {CONFIG_KEY: config_digest(config), person_touches.FINGERPRINT_KEY: touches,
            person_journeys.FINGERPRINT_KEY: journeys, person_engagement.FINGERPRINT_KEY: engagement,
            person_engagement.IN_JOURNEYS_KEY: engagement,
            person_engagement.PARAMETERS_KEY: person_engagement.parameters_text(parameters, latest)}
