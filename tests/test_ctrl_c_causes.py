"""Ctrl-C reaches the command however it arrives: as KeyboardInterrupt, as DuckDB's InterruptException or its
Python client's RuntimeError "Query interrupted", or inside a pyarrow read. Each is an interruption (exit 130,
"unchanged"), never a bad file, an internal error, or a workspace left holding a closed connection. CI met one
of these: a press lost in pyarrow's CSV reader let a 300,000-row ingest run to its end."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import counts, run_cli
from leadjourney.config import Source
from leadjourney.errors import BadFileError
from leadjourney.ingest import ingest
from leadjourney.ingest.ga4_export import stage_ga4_export
from leadjourney.interrupts import caused_by_ctrl_c
from leadjourney.workspace import Workspace, databases_kept_open

EXPORT = Path(__file__).parent / "data" / "web" / "ga4_events_20240301.ndjson"
csvparse = importlib.import_module("leadjourney.ingest.csvparse")  # the package's name `ingest` is a function too


def _interrupted_query() -> duckdb.InterruptException:
    """A real InterruptException: a long query, interrupted from another thread."""
    con = duckdb.connect()
    timer = threading.Timer(0.2, con.interrupt)
    timer.start()
    try:
        con.execute("SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3").fetchall()
    except duckdb.InterruptException as exc:
        return exc
    finally:
        timer.cancel()
    raise AssertionError("the query was not interrupted")


def _interrupted_python_in_duckdb() -> duckdb.Error:
    """A real error of DuckDB's for a Ctrl-C in Python code it ran (a UDF here; CI met it scanning a registered
    Arrow table, "counting the rows of the object registered as 'raw_file' failed: KeyboardInterrupt: ")."""
    def interrupted(x: int) -> int:
        raise KeyboardInterrupt

    con = duckdb.connect()
    con.create_function("interrupted", interrupted, ["BIGINT"], "BIGINT")
    try:
        con.execute("SELECT interrupted(1)").fetchall()
    except duckdb.Error as exc:
        return exc
    raise AssertionError("the UDF's KeyboardInterrupt did not surface")


def test_every_form_of_ctrl_c_is_recognised_and_nothing_else() -> None:
    real = _interrupted_query()
    try:
        raise ValueError("cleanup failed") from real  # a cleanup statement that failed on the aborted transaction
    except ValueError as later:
        after_cleanup = later
    assert all(caused_by_ctrl_c(e) for e in (
        KeyboardInterrupt(), real, RuntimeError("Query interrupted"), after_cleanup, _interrupted_python_in_duckdb()))
    assert not any(caused_by_ctrl_c(e) for e in (
        RuntimeError("Query interrupted by the planner"), duckdb.Error("INTERRUPT? no"), ValueError("x"),
        ValueError("failed: KeyboardInterrupt: "), duckdb.ConversionException("KeyboardInterrupt is a value here")))


def test_an_interrupted_ga4_staging_is_ctrl_c_not_a_bad_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's InterruptException is a duckdb.Error: staging read every such error as an unreadable export."""
    ga4_export = importlib.import_module("leadjourney.ingest.ga4_export")
    monkeypatch.setattr(ga4_export, "_flat_select",  # a staging long enough to be interrupted
                        lambda types, rows: "SELECT count(*) AS n FROM range(100000000000) a WHERE a.range % 7 = 3")
    con = duckdb.connect()
    timer = threading.Timer(0.3, con.interrupt)
    timer.start()
    try:
        with pytest.raises(duckdb.InterruptException):
            stage_ga4_export(con, "raw", EXPORT, Source("ga4", str(EXPORT), "ga4_bigquery"))
    finally:
        timer.cancel()


def test_ctrl_c_while_a_read_connection_reopens_for_writing_leaves_none_closed_behind(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest reads the workspace, then reopens it for writing: a press between the two left the closed
    connection kept, and the rollback's own check then failed ("Connection already closed", an internal error)."""
    ws.ensure_database()
    opened = Workspace._open

    def interrupted_on_write(self: Workspace, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
        if not read_only:
            raise KeyboardInterrupt
        return opened(self, read_only, wait_seconds)

    with databases_kept_open(False), databases_kept_open():  # a block of its own, opening the database anew
        with ws.connect(read_only=True) as con:
            con.execute("SELECT 1").fetchall()
        monkeypatch.setattr(Workspace, "_open", interrupted_on_write)
        with pytest.raises(KeyboardInterrupt):
            ws.connect()
        monkeypatch.setattr(Workspace, "_open", opened)
        with ws.connect(read_only=True) as con:
            assert con.execute("SELECT count(*) FROM leads").fetchall() == [(0,)]


def _query_interrupted() -> bool:
    raise RuntimeError("Query interrupted")


def _error_of_an_interrupted_read() -> bool:
    try:
        raise _interrupted_query()
    except duckdb.Error:
        raise BadFileError("export.parquet: not a readable Parquet file (INTERRUPT Error: Interrupted!)") from None


@pytest.mark.parametrize("interrupted", [_query_interrupted, _error_of_an_interrupted_read])
def test_a_query_interrupted_before_the_ingest_began_is_exit_130_and_unchanged(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch, interrupted: Callable[[], bool]) -> None:
    """DuckDB's client raises RuntimeError("Query interrupted") for a press during a query: outside the ingest's
    own transaction (the schema check) it was an internal error, exit 3, and the --file registration stayed.
    An error raised on the way out of an interrupted query (a file "not readable") is Ctrl-C too."""
    (ws.root / "small.csv").write_text("lead_id,created_at,source\nS1,2024-01-01,seo\n")
    ws.set_sources([{"name": "small", "path": "small.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    (ws.root / "more.csv").write_text("lead_id,created_at,source\nM1,2024-01-02,ppc\n")
    config, tables = ws.config_path.read_text("utf-8"), counts(ws)
    workspace = importlib.import_module("leadjourney.workspace")

    monkeypatch.setattr(workspace, "_schema_complete", lambda con: interrupted())
    result = run_cli("ingest", str(ws.root), "--file", str(ws.root / "more.csv"), "--format", "csv",
                     "--table", "leads")
    monkeypatch.undo()
    assert (result.returncode, result.stderr.strip()) == (130, "interrupted; the workspace is unchanged")
    assert ws.config_path.read_text("utf-8") == config
    assert counts(ws) == tables


def test_a_csv_read_block_by_block_is_the_csv_read_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV is read in blocks (Ctrl-C is Python's between them): many small blocks give the same rows, the same
    row numbers, the same records set aside and blank lines as one block."""
    lines = ["Lead ID,Company,Description"]
    for i in range(3000):
        if i % 397 == 5:
            lines.append(f"{i},too few fields")
        elif i % 501 == 7:
            lines.append("")
        else:
            lines.append(f'{i},"Acme, {i}","note {i}"')
    data = ("\n".join(lines) + "\n").encode()
    header = ["Lead ID", "Company", "Description"]
    whole = csvparse.parse(data, header, "utf-8", ",")
    monkeypatch.setattr(csvparse, "_BLOCK", 1024)
    blocks = csvparse.parse(data, header, "utf-8", ",")
    assert blocks.table.equals(whole.table) and list(blocks.rows) == list(whole.rows)
    assert [m.row for m in blocks.malformed] == [m.row for m in whole.malformed] == [
        i + 2 for i in range(3000) if i % 397 == 5]
    assert blocks.blank_lines == whole.blank_lines == len([i for i in range(3000) if i % 501 == 7 and i % 397 != 5])
    assert not whole.careful and whole.table.num_rows == 3000 - len(whole.malformed) - whole.blank_lines
