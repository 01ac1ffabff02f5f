"""``leadjourney ingest``: load the configured sources into the workspace, in one transaction.

Re-ingesting a source replaces everything it loaded before, so running the
same ingest twice leaves the same tables. A file-level error, or an interrupt,
rolls everything back: the workspace stays as it was. The files are read, typed and checked first, into
temporary tables, outside the transaction; the transaction then writes the canonical tables, the quarantine and
the derived tables. (Inside a transaction DuckDB keeps the rows of every temporary table dropped in it until
COMMIT: at 1M leads that was 1.5 GB spilled to disk.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from leadjourney import schema
from leadjourney.config import Config, Source
from leadjourney.db import one, rollback, scalar
from leadjourney.errors import IngestError
from leadjourney.ingest import person_journeys
from leadjourney.ingest.columns import KINDS, is_personal_column
from leadjourney.ingest.csvparse import Malformed
from leadjourney.ingest.formats import RAW, FileColumns, plan
from leadjourney.ingest.ga4_export import drop_staged, stage_ga4_export
from leadjourney.ingest.identity import DERIVED_ORIGIN, IdentitySummary, refresh_identity
from leadjourney.ingest.load import (
    Prepared,
    drop_prepared,
    prepare_staged,
    redact_malformed,
    write_prepared,
)
from leadjourney.ingest.person_changes import Changes, remember_config
from leadjourney.ingest.person_engagement import (
    Parameters,
    refresh_engagement_columns,
    refresh_person_engagement,
)
from leadjourney.ingest.person_journeys import refresh_person_journeys
from leadjourney.ingest.person_touches import refresh_person_touches
from leadjourney.ingest.personal import scrub_text
from leadjourney.ingest.readers import RawFile, stage_source_file, unstage
from leadjourney.ingest.sql import lit
from leadjourney.ingest.web_visits import refresh_web
from leadjourney.interrupts import caused_by_ctrl_c, ctrl_c_held
from leadjourney.progress import Progress, silent
from leadjourney.tabular import Tabular
from leadjourney.workspace import SALT_KEY, Workspace, memory_limit_mb


@dataclass
class SourceReport:
    name: str
    file: str
    status: str  # "loaded" or "unchanged"
    rows_read: int = 0
    rows_loaded: dict[str, int] = field(default_factory=dict)  # table -> rows
    quarantined: Counter[str] = field(default_factory=Counter)  # reason -> rows
    rejected_rows: int = 0  # rows not loaded (quarantined, action row_rejected)
    rejected: list[tuple[int | None, str | None, str]] = field(default_factory=list)  # the first: row, column, reason
    warnings: list[tuple[str, str | None, str | None, int]] = field(default_factory=list)  # note, column, value, n

    @property
    def header_only(self) -> bool:
        """Loaded from a file with a header and no data rows: the source now holds no rows."""
        return self.status == "loaded" and self.rows_read == 0


@dataclass
class IngestReport(Tabular):
    table_from = "sources"  # to_arrow() / to_pandas(): one row per item

    sources: list[SourceReport]
    identity: IdentitySummary
    stale_origins: list[str]  # origins in the database that the config no longer lists
    pruned: list[str]
    table_rows: dict[str, int]
    people_rebuilt: int | None = None  # people whose derived rows were rebuilt; None: everyone's (or none changed)

    @property
    def quarantined(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for src in self.sources:
            total.update(src.quarantined)
        return total


def ingest(ws: Workspace, *, only: Sequence[str] = (), force: bool = False, prune: bool = False,
           progress: Progress | None = None, allow_empty: bool = True) -> IngestReport:
    """Ingest the workspace's sources (or ``only`` those named) in one transaction.

    A file with a header and no rows loads nothing (:attr:`SourceReport.header_only`). ``allow_empty=False``
    (the command line's default): when every file loaded in this run is such a file, an :class:`IngestError`
    and the workspace unchanged, as a broken export would otherwise replace its source's rows with none."""
    config = ws.config
    selected = [config.source(name) for name in only] if only else list(config.sources)
    if not selected:
        raise IngestError(
            f"{ws.config_path}: no [[sources]] configured; add one (see the comments in the file) "
            f"or use `leadjourney ingest --file PATH --format FORMAT`"
        )
    known_columns = {c for kinds in KINDS.values() for c in kinds}
    for column in sorted(set(config.placeholder_columns) - known_columns):
        raise IngestError(f"{ws.config_path}: missing.placeholder_columns.{column}: not a canonical column; "
                          f"use one of {', '.join(sorted(known_columns))}")
    for src in selected:
        if not ws.resolve(src.path).is_file():
            raise IngestError(f"{ws.resolve(src.path)}: no such file (source {src.name!r} in {ws.config_path.name})")
    ws.ensure_database()
    salt = ws.meta(SALT_KEY) or ""
    say = progress or silent
    steps = len(selected) + 1
    con = ws.connect()
    pending: list[_Pending] = []
    try:
        _bound_memory(con)
        # typed and checked before the transaction, into temporary tables: what a step drops is freed at once
        for i, src in enumerate(selected):
            pending.append(_prepare_source(con, ws, src, config, salt, force, i, pending, _step(say, i, steps)))
        con.execute("BEGIN TRANSACTION")
        changes = Changes(con, config)  # what the sources replace, so that only the people they change are rebuilt
        reports = [_write_source(con, p, config, changes, _step(say, i, steps)) for i, p in enumerate(pending)]
        loaded = [r for r in reports if r.status == "loaded"]
        if not allow_empty and loaded and all(r.header_only for r in loaded):
            raise IngestError(f"nothing loaded: {', '.join(r.file for r in loaded)}: a header and no rows; the "
                              "workspace is unchanged (an export that is really empty: ingest --allow-empty)")
        known = {s.name for s in config.sources} | {DERIVED_ORIGIN}
        stale = sorted({
            str(r[0]) for t in schema.CANONICAL
            for r in con.execute(f"SELECT DISTINCT origin FROM {t}").fetchall()
        } - known)
        if prune and stale:
            changes.stop()
            for origin in stale:
                for t in (*schema.CANONICAL, "quarantine", "ingest_notes"):
                    con.execute(f"DELETE FROM {t} WHERE origin = ?", [origin])
        say("linking duplicates and exclusions", steps - 1, steps)
        identity = refresh_identity(con, config, changes.leads())
        people_rebuilt = changes.rebuild_people(config)
        if people_rebuilt is None:  # everyone's rows, where their inputs changed
            say("indexing touchpoints by person", steps - 1, steps)
            refresh_person_touches(con)
            say("indexing stage entries by person", steps - 1, steps)
            staged = refresh_person_journeys(con, config.stage_names, config.personas, staged=True)
            journeys = person_journeys.STAGED if staged else person_journeys.TABLE
            say("indexing engagement by person", steps - 1, steps)
            refresh_person_engagement(con, Parameters.of(config.stage_names, config.dark_after_days), journeys)
            refresh_engagement_columns(con, journeys)  # written once, in creation order
        remember_config(con, config)
        changes.close()
        say("stitching web visitors to people", steps - 1, steps)
        refresh_web(con)
        rows = {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in schema.CANONICAL}
        for web in ("web_traffic", "web_sessions"):  # web analytics: named only where a source loads it
            if not rows[web]:
                del rows[web]
        with ctrl_c_held():  # an interrupted COMMIT would leave it unknown what was written
            con.execute("COMMIT")
    except BaseException as exc:
        with ctrl_c_held():  # a second Ctrl-C must not cut the rollback short
            rollback(con)
        if caused_by_ctrl_c(exc):
            raise KeyboardInterrupt from None
        raise
    finally:
        with ctrl_c_held(), suppress(duckdb.Error):  # the staged rows: freed now, not when the connection goes
            for p in pending:
                for item in p.items:
                    drop_prepared(con, item)
                if p.kept_view:
                    con.execute(f"DROP VIEW IF EXISTS {p.kept_view}")
        con.close()
    say("done", steps, steps)
    return IngestReport(reports, identity, [] if prune else stale, stale if prune else [], rows, people_rebuilt)


@dataclass
class _Pending:
    """A source read, typed and checked (:func:`_prepare_source`), to be written in the transaction."""

    src: Source
    shown: str
    file_hash: str
    settings_hash: str
    started: datetime | None = None
    raw: RawFile | None = None  # None: unchanged since its last ingest
    items: list[Prepared] = field(default_factory=list)
    kept_view: str | None = None  # the file's view, kept for items typed again as they are written
    path: Path | None = None  # the file, as resolved
    stat: tuple[int, int] = (0, 0)  # its size and modification time when read


def _prepare_source(con: duckdb.DuckDBPyConnection, ws: Workspace, src: Source, config: Config, salt: str,
                    force: bool, index: int, earlier: list[_Pending], say: Callable[[str], None]) -> _Pending:
    """Read, type and check ``src`` into temporary tables, outside the transaction (nothing else is written)."""
    path = ws.resolve(src.path)
    shown = _display(path, ws.root)
    pending = _Pending(src, shown, _file_sha256(path), _settings_sha256(src, config))
    last = one(
        con,
        "SELECT file_sha256, settings_sha256 FROM ingests WHERE origin = ? ORDER BY ingest_id DESC LIMIT 1",
        [src.name],
    )
    if not force and last is not None and tuple(last) == (pending.file_hash, pending.settings_hash):
        return pending
    pending.started = _now()
    say(f"reading {shown}")
    fmt = "parquet" if src.format == "parquet" else "csv"
    if src.format == "ga4_bigquery":  # nested events, flattened in the engine
        raw = stage_ga4_export(con, RAW, path, src)
    else:
        raw = stage_source_file(con, RAW, path, fmt, encoding=src.encoding, delimiter=src.delimiter)
    pending.raw = raw
    pending.path, pending.stat = path, _stat(path)
    # a Parquet file is read in place (a view): typed again as written rather than held typed till then
    keep = f"lj_s{index}_raw" if fmt == "parquet" and src.format != "ga4_bigquery" else None
    loaded = [p for p in earlier if p.raw is not None]
    replaced = (*(p.src.name for p in loaded), src.name)  # gone from the tables when this source's rows load
    before = tuple(item for p in loaded for item in p.items)
    try:
        types = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {RAW}").fetchall()}
        staged = plan(FileColumns(shown, types), src, config, salt)
        for j, item in enumerate(staged):
            say(f"loading {shown} into {item.table}")
            pending.items.append(prepare_staged(
                con, item, source=src, config=config, source_file=shown, salt=salt, name=f"lj_s{index}_{j}",
                replaced=replaced, earlier=(*before, *pending.items), raw=keep))
        if keep:
            con.execute(f"ALTER VIEW {RAW} RENAME TO {keep}")
            pending.kept_view = keep
    finally:
        unstage(con, RAW)
        drop_staged(con)
    return pending


def _write_source(con: duckdb.DuckDBPyConnection, pending: _Pending, config: Config, changes: Changes,
                  say: Callable[[str], None]) -> SourceReport:
    """Replace the rows ``pending``'s source loaded before by those it has now, in the transaction."""
    src, shown, raw = pending.src, pending.shown, pending.raw
    if raw is None:
        return SourceReport(src.name, shown, "unchanged")
    say(f"writing {shown}")
    if pending.kept_view and pending.path and _stat(pending.path) != pending.stat:
        raise IngestError(f"{shown}: the file changed while it was ingested; the workspace is unchanged, "
                          "run ingest again")
    ingest_id = int(scalar(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests"))
    changes.before(src.name)
    for table in (*schema.CANONICAL, "quarantine", "ingest_notes"):
        con.execute(f"DELETE FROM {table} WHERE origin = ?", [src.name])
    report = SourceReport(src.name, shown, "loaded", raw.rows_read)
    for item in pending.items:
        loaded = write_prepared(con, item, ingest_id)
        report.rows_loaded[item.table] = report.rows_loaded.get(item.table, 0) + loaded.rows_loaded
        report.quarantined.update(loaded.quarantined)
    changes.after(src.name)
    if raw.malformed:
        con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
            [(src.name, shown, m.row, m.column, _shown_value(m, raw.columns, src.delimiter, config.keep_emails),
              m.problem, m.reason, schema.ROW_REJECTED, _shown_record(m, config.keep_emails), ingest_id)
             for m in raw.malformed],
        )
        report.quarantined.update(m.problem for m in raw.malformed)
    if raw.renamed:
        con.executemany(
            "INSERT INTO ingest_notes VALUES (?, ?, ?, NULL, ?, ?, ?, 1)",
            [(ingest_id, src.name, shown, schema.NOTE_DUPLICATE_COLUMN, name, new) for new, name in raw.renamed.items()],
        )
    _name_problems(con, report, ingest_id)
    quarantined_rows = scalar(
        con,
        f"SELECT count(DISTINCT source_row) FROM quarantine WHERE ingest_id = {ingest_id} "
        f"AND action <> {lit(schema.VALUE_NULLED)}",
    )
    con.execute(
        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ingest_id, src.name, shown, src.format, pending.file_hash, pending.settings_hash, raw.rows_read,
         sum(report.rows_loaded.values()), int(quarantined_rows), pending.started, _now()],
    )
    return report


INGEST_MEMORY_MB = 2048  # DuckDB's budget while ingesting: beyond it, it spills to the database's .tmp folder


def _bound_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Cap DuckDB's memory for the ingest (never above the workspace's budget), so that a large file spills to
    disk next to the database instead of growing the process: the typed rows live in temporary tables."""
    con.execute(f"SET memory_limit = '{min(INGEST_MEMORY_MB, memory_limit_mb())}MB'")


WARNED = (schema.NOTE_DUPLICATE_COLUMN, schema.NOTE_EPOCH_UNIT, schema.NOTE_DECIMAL_ID,
          schema.NOTE_FILTERED_OUT)  # notes the command shows
_NAMED = 5  # rejected rows named in the report


def _name_problems(con: duckdb.DuckDBPyConnection, report: SourceReport, ingest_id: int) -> None:
    """Put the rows a load rejected (the first few, by row) and the notes worth a warning into ``report``."""
    rejected = f"FROM quarantine WHERE ingest_id = {ingest_id} AND action = {lit(schema.ROW_REJECTED)}"
    report.rejected_rows = int(scalar(con, f"SELECT count(DISTINCT source_row) {rejected}"))
    first: dict[int | None, tuple[int | None, str | None, str]] = {}
    for row, column, reason in con.execute(
            f"SELECT source_row, column_name, reason {rejected} ORDER BY source_row, column_name NULLS LAST "
            f"LIMIT {_NAMED * 10}").fetchall():
        first.setdefault(row, (row, column, str(reason)))
    report.rejected = list(first.values())[:_NAMED]
    report.warnings = [(str(r[0]), r[1], r[2], int(r[3])) for r in con.execute(
        f"SELECT note, column_name, value, sum(n) FROM ingest_notes WHERE ingest_id = {ingest_id} "
        f"AND note IN ({', '.join(map(lit, WARNED))}) GROUP BY ALL ORDER BY ALL"
    ).fetchall()]


def _shown_value(m: Malformed, header: list[str], delimiter: str, keep_personal: bool) -> str:
    """What quarantine shows of a record set aside while reading: the record, or its bad value; no personal data."""
    if m.column is None:
        return (m.text if keep_personal else redact_malformed(m.text, header, delimiter)).replace("\x00", "\\0")
    return _shown_text(m.column, m.text, keep_personal)


def _shown_record(m: Malformed, keep_personal: bool) -> str | None:
    """A well-formed record set aside, as JSON without personal columns (as quarantine keeps records)."""
    if m.record is None:
        return None
    return json.dumps({k: _shown_text(k, v, keep_personal) for k, v in m.record.items()
                       if keep_personal or not is_personal_column(k)})


def _shown_text(column: str, value: str, keep_personal: bool) -> str:
    """A value of a record set aside, as quarantine keeps it: personal columns hidden, e-mail addresses and phone
    numbers in other text masked (as in every kept text), unless personal data is kept."""
    if keep_personal:
        return value
    return "<hidden>" if is_personal_column(column) else scrub_text(value)


def _step(say: Progress, done: int, total: int) -> Callable[[str], None]:
    def report(message: str) -> None:
        say(message, done, total)

    return report


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def _stat(path: Path) -> tuple[int, int]:
    """What tells a file changed: its size and modification time (ns)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _settings_sha256(src: Source, config: Config) -> str:
    """Everything besides the file that changes what a source loads."""
    relevant = {
        "source": dataclasses.asdict(src),
        "stages": [dataclasses.asdict(s) for s in config.stages],
        "channels": config.channels,
        "timezone": config.timezone,
        "keep_emails": config.keep_emails,
        "outcomes": [config.won_values, config.lost_values],
        "placeholders": [config.placeholders, config.placeholder_columns],
        "schema": schema.SCHEMA_VERSION,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ingested_state(ws: Workspace) -> tuple[int, ...]:
    """What the workspace holds, in brief: the last ingest's id and each canonical table's row count. An ingest
    that committed new data (or pruned rows) changes it; one interrupted before its commit does not."""
    if not ws.database_path.exists():
        return (0,) * (1 + len(schema.CANONICAL))
    with ws.connect(read_only=True) as con:
        counts = ", ".join(f"(SELECT count(*) FROM {t})" for t in schema.CANONICAL)
        row = con.execute(f"SELECT (SELECT coalesce(max(ingest_id), 0) FROM ingests), {counts}").fetchall()[0]
    return tuple(int(v) for v in row)
