"""The workspace's tables as Parquet files, for engines that do not read the DuckDB file (Spark).

Every table an analysis reads (the canonical tables, the derived tables ingest builds, ``meta`` and the
ingest log) is written to ``<tables>/<name>.parquet`` with a ``manifest.json`` naming the workspace state
it was written from (a fingerprint of ``meta``, the ingest log and each table's row count). The export is
written beside the old one and swapped in, so a crash or Ctrl-C leaves the previous export (or none),
never a mix; :func:`current_export` tells whether it still matches the workspace.

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
    import duckdb

    from leadjourney.workspace import Workspace

# the derived tables ingest builds (ingest/person_touches.py, person_journeys.py, person_engagement.py,
# web_visits.py name them; tests/test_engines.py keeps this list equal to theirs)
DERIVED = ("person_touches", "person_journeys", "person_engagement", "web_stitches", "web_visits")
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
                      str(manifest["exported_at"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def current_export(ws: Workspace) -> Export | None:
    """The workspace's export when it matches the database as it is now, else None."""
    found = read_export(tables_folder(ws))
    if found is None:
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


def export_tables(ws: Workspace, *, force: bool = False) -> Export:
    """Write the workspace's tables to ``[engine] tables`` as Parquet (skipped when the export on disk
    already matches the database, unless ``force``); returns the export."""
    folder = tables_folder(ws)
    with ws.connect(read_only=True) as con:
        now, counts = fingerprint(con)
        found = read_export(folder)
        if found is not None and found.fingerprint == now and not force:
            return found
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.with_name(f".{folder.name}.writing-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            for table in counts:
                target = str(staging / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY ({_select(con, table)}) TO '{target}' (FORMAT parquet)")
            exported_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
            (staging / MANIFEST).write_text(json.dumps(
                {"fingerprint": now, "tables": counts, "exported_at": exported_at}, indent=2), "utf-8")
            _swap(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Export(folder, now, counts, exported_at)


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


__all__ = ["DERIVED", "EXPORTED", "Export", "current_export", "export_tables", "read_export", "tables_folder"]
