"""``leadjourney ingest``: load the configured sources into the workspace, in one transaction.

Re-ingesting a source replaces everything it loaded before, so running the
same ingest twice leaves the same tables. A file-level error, or an interrupt,
rolls everything back: the workspace stays as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from leadjourney import schema
from leadjourney.config import Config, Source
from leadjourney.db import one, scalar
from leadjourney.errors import IngestError
from leadjourney.ingest.columns import KINDS, is_personal_column
from leadjourney.ingest.csvparse import Malformed
from leadjourney.ingest.formats import RAW, FileColumns, plan
from leadjourney.ingest.identity import DERIVED_ORIGIN, IdentitySummary, refresh_identity
from leadjourney.ingest.load import load_staged, redact_malformed
from leadjourney.ingest.person_engagement import (
    Parameters,
    refresh_engagement_columns,
    refresh_person_engagement,
)
from leadjourney.ingest.person_journeys import refresh_person_journeys
from leadjourney.ingest.person_touches import refresh_person_touches
from leadjourney.ingest.readers import stage_source_file, unstage
from leadjourney.ingest.sql import lit
from leadjourney.progress import Progress, silent
from leadjourney.workspace import SALT_KEY, Workspace


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


@dataclass
class IngestReport:
    sources: list[SourceReport]
    identity: IdentitySummary
    stale_origins: list[str]  # origins in the database that the config no longer lists
    pruned: list[str]
    table_rows: dict[str, int]

    @property
    def quarantined(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for src in self.sources:
            total.update(src.quarantined)
        return total


def ingest(ws: Workspace, *, only: Sequence[str] = (), force: bool = False, prune: bool = False,
           progress: Progress | None = None) -> IngestReport:
    """Ingest the workspace's sources (or ``only`` those named) in one transaction."""
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
    try:
        con.execute("BEGIN TRANSACTION")
        reports = [
            _ingest_source(con, ws, src, config, salt, force, _step(say, i, steps))
            for i, src in enumerate(selected)
        ]
        known = {s.name for s in config.sources} | {DERIVED_ORIGIN}
        stale = sorted({
            str(r[0]) for t in schema.CANONICAL
            for r in con.execute(f"SELECT DISTINCT origin FROM {t}").fetchall()
        } - known)
        if prune and stale:
            for origin in stale:
                for t in (*schema.CANONICAL, "quarantine", "ingest_notes"):
                    con.execute(f"DELETE FROM {t} WHERE origin = ?", [origin])
        say("linking duplicates and exclusions", steps - 1, steps)
        identity = refresh_identity(con, config)
        say("indexing touchpoints by person", steps - 1, steps)
        refresh_person_touches(con)
        say("indexing stage entries by person", steps - 1, steps)
        refresh_person_journeys(con, config.stage_names, config.personas, ordered=False)  # sorted just below
        say("indexing engagement by person", steps - 1, steps)
        refresh_person_engagement(con, Parameters.of(config.stage_names, config.dark_after_days))
        refresh_engagement_columns(con)
        rows = {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in schema.CANONICAL}
        with _uninterrupted():
            con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        if _is_interrupt(exc):
            raise KeyboardInterrupt from None
        raise
    finally:
        con.close()
    say("done", steps, steps)
    return IngestReport(reports, identity, [] if prune else stale, stale if prune else [], rows)


def _ingest_source(con: duckdb.DuckDBPyConnection, ws: Workspace, src: Source, config: Config, salt: str,
                   force: bool, say: Callable[[str], None]) -> SourceReport:
    path = ws.resolve(src.path)
    shown = _display(path, ws.root)
    file_hash = _file_sha256(path)
    settings_hash = _settings_sha256(src, config)
    last = one(
        con,
        "SELECT file_sha256, settings_sha256 FROM ingests WHERE origin = ? ORDER BY ingest_id DESC LIMIT 1",
        [src.name],
    )
    if not force and last is not None and tuple(last) == (file_hash, settings_hash):
        return SourceReport(src.name, shown, "unchanged")
    started = _now()
    say(f"reading {shown}")
    fmt = "parquet" if src.format == "parquet" else "csv"
    raw = stage_source_file(con, RAW, path, fmt, encoding=src.encoding, delimiter=src.delimiter)
    try:
        types = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {RAW}").fetchall()}
        staged = plan(FileColumns(shown, types), src, config)
        ingest_id = int(scalar(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests"))
        for table in (*schema.CANONICAL, "quarantine", "ingest_notes"):
            con.execute(f"DELETE FROM {table} WHERE origin = ?", [src.name])
        report = SourceReport(src.name, shown, "loaded", raw.rows_read)
        for item in staged:
            say(f"loading {shown} into {item.table}")
            loaded = load_staged(con, item, source=src, config=config, source_file=shown,
                                 ingest_id=ingest_id, salt=salt)
            report.rows_loaded[item.table] = report.rows_loaded.get(item.table, 0) + loaded.rows_loaded
            report.quarantined.update(loaded.quarantined)
    finally:
        unstage(con, RAW)
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
        [ingest_id, src.name, shown, src.format, file_hash, settings_hash, raw.rows_read,
         sum(report.rows_loaded.values()), int(quarantined_rows), started, _now()],
    )
    return report


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C back while the block runs: an interrupted COMMIT would leave it unknown what was written.

    A Ctrl-C during the block is ignored: the commit is done by then and the command about to end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _is_interrupt(exc: BaseException) -> bool:
    """Whether Ctrl-C caused ``exc``: directly, or inside a DuckDB query (InterruptException, or RuntimeError from
    DuckDB's Python client), possibly followed by a cleanup statement that failed on the aborted transaction."""
    chain: BaseException | None = exc
    for _ in range(10):
        if chain is None:
            return False
        if isinstance(chain, KeyboardInterrupt | duckdb.InterruptException) or (
                type(chain) is RuntimeError and str(chain) == "Query interrupted"):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the ingest's transaction; an interrupted or failed statement may have ended it already."""
    with suppress(duckdb.TransactionException):  # no transaction is active: DuckDB rolled it back already
        con.execute("ROLLBACK")


WARNED = (schema.NOTE_DUPLICATE_COLUMN, schema.NOTE_EPOCH_UNIT, schema.NOTE_DECIMAL_ID)  # notes the command shows
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
    return m.text if keep_personal or not is_personal_column(m.column) else "<hidden>"


def _shown_record(m: Malformed, keep_personal: bool) -> str | None:
    """A well-formed record set aside, as JSON without personal columns (as quarantine keeps records)."""
    if m.record is None:
        return None
    return json.dumps({k: v for k, v in m.record.items() if keep_personal or not is_personal_column(k)})


def _step(say: Progress, done: int, total: int) -> Callable[[str], None]:
    def report(message: str) -> None:
        say(message, done, total)

    return report


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


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
