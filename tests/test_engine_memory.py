"""A query DuckDB cannot spill runs again with the machine's memory, unless the analyst chose the budget."""

from __future__ import annotations

import logging

import duckdb
import pytest

from leadjourney.engine import with_headroom
from leadjourney.workspace import MEMORY_ENV

UNSPILLABLE = "SELECT len(list(range)) FROM range(3000000)"  # a list aggregate: held whole in memory


def _tight() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET memory_limit = '8MB'")
    return con


def test_out_of_memory_runs_again_with_the_machines_budget(monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    con = _tight()
    with caplog.at_level(logging.WARNING, logger="leadjourney.engine"):
        assert with_headroom(con, lambda: con.execute(UNSPILLABLE).fetchall()) == [(3000000,)]
    assert "ran again with" in caplog.text and MEMORY_ENV in caplog.text
    value, unit = str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0]).split()  # type: ignore[index]
    assert unit == "GiB" and float(value) > 0.1


def test_the_analysts_budget_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, "300")
    con = _tight()
    with pytest.raises(duckdb.OutOfMemoryException):
        with_headroom(con, lambda: con.execute(UNSPILLABLE).fetchall())


def test_inside_a_transaction_the_first_error_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    con = _tight()
    con.execute("BEGIN")
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(duckdb.OutOfMemoryException):
        with_headroom(con, lambda: con.execute(UNSPILLABLE).fetchall())
