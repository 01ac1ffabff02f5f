"""The workspace's tables as Parquet files, for engines that do not read the DuckDB file (Spark, Postgres).

Every table an analysis reads (the canonical tables, the derived tables ingest builds, ``meta`` and the
ingest log) is written to ``<tables>/<name>.parquet`` with a ``manifest.json`` naming the workspace state
it was written from (a fingerprint of ``meta``, the ingest log and each table's row count). The export is
written beside the old one and swapped in, so a crash or Ctrl-C leaves the previous export (or none),
never a mix; :func:`current_export` tells whether it still matches the workspace.

For ``[engine] backend = "pyspark"`` the engine builds the derived tables itself (:func:`derive_in_spark`):
DuckDB writes the canonical and bookkeeping tables, then Spark runs the same Ibis expressions ingest compiles
for DuckDB (``person_touches``, ``person_journeys`` with the engagement columns, ``person_engagement``, and
the web tables ``web_stitches`` and ``web_visits``) over those Parquet files and writes the results, as
Parquet folders, into the same export. For ``backend = "postgres"`` the export leaves the five out
(``derived_by`` is ``"postgres"``; ``tables`` still gives DuckDB's row counts): Postgres builds them with the
same function (:func:`build_derived`) when it loads the export (:func:`leadjourney.warehouse.load_tables`).

The engine builds them for the configuration as it is (``built_for``: its
:func:`~leadjourney.ingest.person_changes.config_digest`), also when DuckDB's were built for another (the
stages, personas or silence edited since the last ingest: DuckDB's own analyses then compute live, as
before). What it needs is that DuckDB's were built from the rows the workspace holds
(:func:`~leadjourney.ingest.person_changes.derived_rows_current`): then the row counts must equal DuckDB's,
and the export's ``meta`` is DuckDB's with the rows describing the derived tables as built for the
configuration (:func:`~leadjourney.ingest.person_changes.meta_built_for`), so the engine's analyses read its
tables. An export is current while the workspace's fingerprint and the configuration it was built for are
(:func:`current_export`); a later edit makes it stale: the next run on the engine builds again (the canonical
and bookkeeping files of the stale export, written from the same rows, linked into the new one; ``meta``
written anew), and a copy read without that (an older Postgres load) is read as built for another
configuration (live).
Otherwise (an older workspace's tables) the export carries DuckDB's tables and ``meta``.

>>> export_tables(ws).tables["leads"]            # doctest: +SKIP
990000
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.schema import CANONICAL

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb
    import ibis
    import ibis.expr.types as ir

    from leadjourney.config import Config, EngineSettings
    from leadjourney.workspace import Workspace

# the derived tables ingest builds, and Spark for its export (derive_in_spark) (ingest/person_touches.py,
# person_journeys.py, person_engagement.py, web_visits.py name them; tests/test_engines.py keeps this list equal)
DERIVED = ("person_touches", "person_journeys", "person_engagement", "web_stitches", "web_visits")
PER_PERSON = DERIVED[:3]  # the per-person tables
# the tables each engine builds itself when DuckDB's are current (build_derived)
BUILT_BY = {"pyspark": DERIVED, "postgres": DERIVED}
BOOKKEEPING = ("meta", "ingests", "ingest_notes")
EXPORTED = (*CANONICAL, *DERIVED, *BOOKKEEPING)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Export:
    """An export on disk: its folder, the workspace state it was written from, rows per table."""

    folder: Path
    fingerprint: str
    tables: dict[str, int]
    exported_at: str
    # the engine that built the derived tables it names (BUILT_BY): "duckdb", "pyspark" (Parquet folders here) or
    # "postgres" (not here: warehouse.load_tables builds them in Postgres from this export's canonical tables)
    derived_by: str = "duckdb"
    built_for: str = ""  # the config_digest the engine builds them for ("" when DuckDB's are exported)

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"


def tables_folder(ws: Workspace) -> Path:
    """``[engine] tables`` resolved against the workspace folder."""
    return ws.resolve(ws.config.engine.tables)


def _present(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()}
    return [t for t in EXPORTED if t in names]


def fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, int]]:
    """What the export depends on: ``meta`` (derived tables' fingerprints), the ingest log, and row counts."""
    tables = _present(con)
    counts = dict(zip(tables, con.execute(
        "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)).fetchone() or (), strict=True))
    digest = hashlib.sha256()
    for row in con.execute("SELECT key, value FROM meta ORDER BY key").fetchall():
        digest.update(repr(row).encode())
    if "ingests" in counts:
        for row in con.execute("SELECT ingest_id, origin, file_sha256, settings_sha256, finished_at "
                               "FROM ingests ORDER BY ingest_id, origin, source_file").fetchall():
            digest.update(repr(row).encode())
    digest.update(json.dumps(counts, sort_keys=True).encode())
    return digest.hexdigest(), counts


def read_export(folder: Path) -> Export | None:
    """The export in ``folder`` (None when there is none or its manifest is unreadable)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        return Export(folder, str(manifest["fingerprint"]), {str(k): int(v) for k, v in manifest["tables"].items()},
                      str(manifest["exported_at"]), str(manifest.get("derived_by", "duckdb")),
                      str(manifest.get("built_for", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def current_export(ws: Workspace) -> Export | None:
    """The workspace's export when it matches the database as it is now (and, when the engine built its derived
    tables, the configuration as it is), else None."""
    from leadjourney.ingest.person_changes import config_digest

    found = read_export(tables_folder(ws))
    if found is None or found.built_for not in ("", config_digest(ws.config)):
        return None
    with ws.connect(read_only=True) as con:
        now, _ = fingerprint(con)
    return found if found.fingerprint == now else None


def _select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table's rows with JSON columns as text (Parquet readers other than DuckDB know no JSON type)."""
    columns = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    parts = [f'CAST("{c}" AS VARCHAR) AS "{c}"' if kind == "JSON" else f'"{c}"' for c, kind in columns]
    return f'SELECT {", ".join(parts)} FROM "{table}"'


def export_tables(ws: Workspace, *, force: bool = False, engine: EngineSettings | None = None) -> Export:
    """Write the workspace's tables to ``[engine] tables`` as Parquet (skipped when the export on disk
    already matches the database, unless ``force``); returns the export. ``engine`` (default: the workspace's
    ``[engine]``): for ``pyspark`` Spark builds the derived tables (:func:`derive_in_spark`); for ``postgres``
    they are left out (Postgres builds them when it loads the export: :mod:`leadjourney.warehouse`); either
    for the configuration as it is, when DuckDB's were built from the rows the workspace holds (for this
    configuration or another), else DuckDB's are written. The export on disk serves only if it was built
    for the configuration as it is."""
    from leadjourney.ingest.person_changes import config_digest, derived_rows_current

    settings = engine or ws.config.engine
    folder = tables_folder(ws)
    with ws.connect(read_only=True) as con:
        now, counts = fingerprint(con)
        own = BUILT_BY.get(settings.backend, ())
        by_engine = bool(own) and set(own) <= set(counts) and derived_rows_current(con)
        derived_by = settings.backend if by_engine else "duckdb"
        built_for = config_digest(ws.config) if by_engine else ""
        by_spark = derived_by == "pyspark"
        found = read_export(folder)
        if (found is not None and (found.fingerprint, found.derived_by, found.built_for) == (now, derived_by, built_for)
                and not force):
            return found
        # the configuration edited since this export was written from the same rows: its canonical and bookkeeping
        # files serve again (linked), only meta and the engine's tables are new
        same_rows = (found if by_engine and not force and found is not None
                     and (found.fingerprint, found.derived_by) == (now, derived_by) else None)
        if by_spark:  # started first: no Spark here (pyspark, Java) fails before anything is written
            from leadjourney.spark import spark_session

            spark_session(settings.master, settings.spark_conf)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.with_name(f".{folder.name}.writing-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            for table in counts:
                if by_engine and table in own:
                    continue
                if same_rows is not None and table != "meta" and _linked(same_rows.path(table), staging):
                    continue
                target = str(staging / f"{table}.parquet").replace("'", "''")
                query = _meta_built_for(con, ws.config) if by_engine and table == "meta" else _select(con, table)
                con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)")
            if by_spark:
                built = derive_in_spark(staging, ws.config, settings)
                wrong = {t: (n, counts[t]) for t, n in built.items() if n != counts[t]}
                if wrong:  # the same expressions over the same rows: a difference is a bug, not a state to keep
                    raise RuntimeError(f"Spark built other row counts than DuckDB holds (Spark, DuckDB): {wrong}")
            exported_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
            (staging / MANIFEST).write_text(json.dumps(
                {"fingerprint": now, "tables": counts, "exported_at": exported_at, "derived_by": derived_by,
                 "built_for": built_for}, indent=2), "utf-8")
            _swap(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Export(folder, now, counts, exported_at, derived_by, built_for)


def _linked(path: Path, folder: Path) -> bool:
    """``path`` (a file) hard-linked into ``folder``; False where it cannot be (then it is written anew)."""
    try:
        os.link(path, folder / path.name)
    except OSError:
        return False
    return True


def _meta_built_for(con: duckdb.DuckDBPyConnection, config: Config) -> str:
    """The query of ``meta`` for an export whose engine builds the derived tables for ``config``: DuckDB's rows
    with those describing the derived tables as built for it
    (:func:`~leadjourney.ingest.person_changes.meta_built_for`)."""
    from leadjourney.ingest.person_changes import meta_built_for
    from leadjourney.ingest.sql import lit

    rows = meta_built_for(con, config)
    values = ", ".join(f"({lit(k)}, {lit(v)})" for k, v in sorted(rows.items()))
    return (f"SELECT key, value FROM meta WHERE key NOT IN ({', '.join(lit(k) for k in rows)}) "
            f"UNION ALL SELECT * FROM (VALUES {values}) ORDER BY key")


STAGED = ".person_journeys_staged"  # person_journeys before its engagement columns (a leading dot: scratch)
VISITS_STAGED = ".web_visit_rows"  # the visits before their pages' paths, stitches and form fills (scratch)


def build_derived(backend: ibis.BaseBackend, config: Config, write: Callable[[ir.Table, str], ir.Table],
                  tables: tuple[str, ...] = DERIVED) -> dict[str, int]:
    """Build ``tables`` (:data:`PER_PERSON`, and the web tables when named) in the engine ``backend`` is, from its
    canonical tables (``backend.table("leads")`` and the others), with the Ibis expressions ingest runs on DuckDB and
    the options it passes them (the configured stages, personas, signal stage and silence); returns the rows of each.

    ``write(expr, table)`` materializes ``expr`` as ``table`` in that engine and returns the table written (Spark:
    a Parquet folder read back as a view; Postgres: a table in the target schema). A name starting with a dot
    (:data:`STAGED`) is scratch: the engine may drop it once this returns.

    As ingest does: person_journeys' rows are written first (unsorted, :data:`STAGED`), person_engagement is
    computed from them and person_touches, and person_journeys is written again with the engagement columns
    after its own (:func:`~leadjourney.ingest.person_engagement.refresh_engagement_columns`), in creation order;
    then the web tables, as :func:`~leadjourney.ingest.web_visits.refresh_web` builds them after those (the
    visits staged once: five parts of web_visits read them)."""
    from leadjourney.ingest import person_engagement, person_journeys, person_touches, web_visits

    touches = write(person_touches.person_touches(backend), person_touches.TABLE)
    rows = write(person_journeys.person_journeys(backend, config.stage_names, config.personas), STAGED)
    engagement = write(person_engagement.person_engagement(
        touches, rows, person_engagement.signal_stage_index(config.stage_names), config.dark_after_days),
        person_engagement.TABLE)
    joined = rows.left_join(engagement, "person_key")
    journeys = write(joined.select(*(rows[c] for c in rows.columns),
                                   *(engagement[c] for c in person_engagement.COLUMNS)).order_by("created_at"),
                     person_journeys.TABLE)  # the order ingest writes it in
    built = {person_touches.TABLE: touches, person_journeys.TABLE: journeys, person_engagement.TABLE: engagement}
    if web_visits.VISITS in tables:
        built[web_visits.STITCHES] = write(web_visits.web_stitches(backend), web_visits.STITCHES)
        visits = write(web_visits.visit_rows(backend), VISITS_STAGED)
        built[web_visits.VISITS] = write(web_visits.web_visits(backend, visits), web_visits.VISITS)
    return {table: int(built[table].count().to_pyarrow().as_py()) for table in tables}


def derive_in_spark(folder: Path, config: Config, settings: EngineSettings) -> dict[str, int]:
    """Build the :data:`DERIVED` tables (:func:`build_derived`) on Spark from the canonical tables in
    ``folder`` (``<table>.parquet``, as :func:`export_tables` writes them) into ``folder``, as Parquet folders;
    returns the rows written per table.

    The tables are read in a session of their own (the process's Spark context, its own temporary views),
    so that the views of a run reading an export are left alone."""
    from leadjourney.spark import spark_backend, spark_conf_for, spark_session

    parent = spark_session(settings.master, settings.spark_conf)
    session = parent.newSession()
    for name, value in spark_conf_for(settings.master, settings.spark_conf).items():
        if name.startswith("spark.sql."):  # the session's own settings (UTC, timestamps without zone, partitions)
            session.conf.set(name, value)
    backend = spark_backend(session)

    def write(expr: ir.Table, table: str) -> ir.Table:
        """``expr`` written to ``folder`` as ``table`` (a Parquet folder), and read back as ``table``."""
        path = str(folder / f"{table}.parquet")
        backend.to_parquet(expr, path)
        view = table.lstrip(".")
        session.read.parquet(path).createOrReplaceTempView(view)
        views.append(view)
        return backend.table(view)

    views = ["leads", "touchpoints", "stage_events", "opportunities", "web_sessions"]
    for table in views:
        session.read.parquet(str(folder / f"{table}.parquet")).createOrReplaceTempView(table)
    try:
        return build_derived(backend, config, write, BUILT_BY["pyspark"])
    finally:
        for view in views:
            session.catalog.dropTempView(view)
        for staged in (STAGED, VISITS_STAGED):
            shutil.rmtree(folder / f"{staged}.parquet", ignore_errors=True)


def _swap(staging: Path, folder: Path) -> None:
    """Put ``staging`` where ``folder`` is (the old export removed once the new one is in place)."""
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    try:
        staging.rename(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            if old.exists():
                old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["BUILT_BY", "DERIVED", "EXPORTED", "PER_PERSON", "Export", "build_derived", "current_export",
           "derive_in_spark", "export_tables",
           "read_export", "tables_folder"]
