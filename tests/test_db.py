"""db.transaction: the one BEGIN/COMMIT/ROLLBACK block (findings, monitor runs; ingest's rollback) on a real DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from leadjourney.db import rollback, scalar, transaction


def _table(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")
    return con


def test_a_block_is_committed_whole_or_not_at_all(tmp_path: Path) -> None:
    con = _table(tmp_path)
    with transaction(con):
        con.execute("INSERT INTO runs VALUES (1), (2)")
    for stop in (duckdb.ConstraintException, KeyboardInterrupt):  # a failed statement; Ctrl-C between two
        with pytest.raises(stop), transaction(con):
            con.execute("INSERT INTO runs VALUES (3)")
            if stop is KeyboardInterrupt:
                raise KeyboardInterrupt
            con.execute("INSERT INTO runs VALUES (1)")
        assert scalar(con, "SELECT list(id ORDER BY id) FROM runs") == [1, 2]
    con.close()
    assert duckdb.connect(str(tmp_path / "t.duckdb")).execute("SELECT count(*) FROM runs").fetchone() == (2,)


def test_rollback_when_the_transaction_already_ended(tmp_path: Path) -> None:
    con = _table(tmp_path)
    rollback(con)  # none open: nothing to undo, no error
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO runs VALUES (7)")
    rollback(con)
    assert scalar(con, "SELECT count(*) FROM runs") == 0
