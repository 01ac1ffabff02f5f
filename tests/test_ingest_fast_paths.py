"""The ingest's fast paths give what the general ones give: text timestamps typed by the strptime of their shape,
ids and typed timestamps kept once (no raw-text copy), and DuckDB's memory capped while ingesting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import csv_text, csv_workspace, fetch
from leadjourney.ingest import csvparse, ingest
from leadjourney.ingest.pipeline import INGEST_MEMORY_MB, _bound_memory
from leadjourney.workspace import Workspace

FILLER = 60  # rows in the column's main shape: it gets a fast path
SPECIAL = {  # lead id -> created_at as written
    "fast": "2024-07-01 12:00:00",  # the main shape
    "general": "07/01/2024 12:00:00",  # the same instant, month first: the general parser
    "z": "2024-07-01T12:00:00Z",
    "offset": "2024-07-01T14:00:00+02:00",
    "impossible": "2024-02-30 10:00:00",  # the main shape, no such day: the general parser says so
    "words": "last tuesday",
    "placeholder": "unknown",
    "padded": "  2024-07-01 12:00:00 ",
    "blank": "",
}


def test_text_timestamps_in_the_main_shape_load_as_the_general_parser_reads_them(tmp_path: Path) -> None:
    rows = [[f"F{i}", f"2024-06-{1 + i % 28:02d} 0{i % 10}:15:00"] for i in range(FILLER)]
    rows += [[k, v] for k, v in SPECIAL.items()] + [["", "2024-07-01 12:00:00"]]
    ws = csv_workspace(tmp_path, leads=csv_text(["lead_id", "created_at"], rows))
    at = {r[0]: (r[1], r[2]) for r in fetch(ws, "SELECT lead_id, created_at, created_at_is_date FROM leads")}
    assert at["fast"] == at["general"] == at["padded"]
    assert at["fast"][1] is False
    assert at["z"] == at["offset"] == (datetime(2024, 7, 1, 12), False)
    assert at["placeholder"] == at["blank"] == (None, None)
    assert "impossible" not in at and "words" not in at
    assert len(at) == FILLER + 7
    quarantined = {(r[0], r[1], r[2]) for r in fetch(ws, "SELECT column_name, value, reason FROM quarantine")}
    assert quarantined == {("created_at", "2024-02-30 10:00:00", "unparseable timestamp"),
                           ("created_at", "last tuesday", "unparseable timestamp"),
                           ("lead_id", None, "missing value")}
    notes = {(r[0], r[1]): r[2] for r in fetch(ws, "SELECT note, value, n FROM ingest_notes WHERE column_name = "
                                                   "'created_at' AND note IN ('placeholder', 'utc_offset')")}
    assert notes == {("placeholder", "unknown"): 1, ("utc_offset", "Z"): 1, ("utc_offset", "+02:00"): 1}


def test_missing_ids_and_timestamps_in_parquet_are_quarantined(tmp_path: Path) -> None:
    table = pa.table({"lead_id": ["L1", None, "L3", " "], "occurred_at": pa.array(
        [datetime(2024, 7, 1, 12), datetime(2024, 7, 2), None, datetime(2024, 7, 3)], pa.timestamp("us")),
        "kind": ["call", "call", "call", "call"]})
    pq.write_table(table, tmp_path / "touches.parquet")
    ws = Workspace.init(tmp_path / "ws")
    ws.set_sources([{"name": "t", "path": str(tmp_path / "touches.parquet"), "format": "parquet",
                     "table": "touchpoints", "timezone": "UTC"}])
    report = ingest(Workspace.open(ws.root))
    assert report.table_rows["touchpoints"] == 1
    assert fetch(ws, "SELECT lead_id, occurred_at FROM touchpoints") == [("L1", datetime(2024, 7, 1, 12))]
    assert sorted(fetch(ws, "SELECT source_row, column_name, reason FROM quarantine")) == [
        (2, "lead_id", "missing value"), (3, "occurred_at", "missing value"), (4, "lead_id", "missing value")]  # row 1: first


def test_ingest_caps_duckdb_memory(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path)
    ws.ensure_database()
    with ws.connect() as con:
        _bound_memory(con)
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
    value, unit = str(limit[0]).split()  # type: ignore[index]
    assert float(value) * {"MiB": 1, "GiB": 1024}[unit] <= INGEST_MEMORY_MB


def test_csv_values_are_looked_at_one_by_one_only_when_lines_and_records_differ() -> None:
    """One line per record (header, records, blank lines, malformed rows): no value spans lines. Otherwise the
    values are looked at, and a quoted value spanning lines stays one value."""
    header = ["lead_id", "note"]
    flat = b"lead_id,note\nL1,a\n\nL2,b,extra\nL3,\"c, d\"\n"
    parsed = csvparse._fast(flat, header, "utf-8", ",")
    assert not csvparse._multi_line(parsed, flat)
    spanning = b"lead_id,note\nL1,\"two\nlines\"\nL2,b\n"
    parsed = csvparse._fast(spanning, header, "utf-8", ",")
    assert csvparse._multi_line(parsed, spanning)
    open_at_end = b"lead_id,note\nL1,a\nL2,\"b\n"  # the open quote swallows the last line end: as many ends
    parsed = csvparse._fast(open_at_end, header, "utf-8", ",")
    assert csvparse._multi_line(parsed, open_at_end)
    values = csvparse.parse(spanning, header, "utf-8", ",").table.column("note").to_pylist()
    assert values == ["two\nlines", "b"]
    nul = csvparse.parse(b"lead_id,note\nL1,a\x00b\nL2,b\n", header, "utf-8", ",")
    assert [m.problem for m in nul.malformed] == ["NUL byte"] and nul.table.num_rows == 1
