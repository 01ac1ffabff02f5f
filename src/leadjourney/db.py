"""Tiny helpers over a DuckDB connection (results are always fully fetched)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from leadjourney.interrupts import ctrl_c_held

if TYPE_CHECKING:
    import duckdb


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, or None."""
    rows = con.execute(sql, params or []).fetchall()
    return tuple(rows[0]) if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first value of the first row, or None."""
    row = one(con, sql, params)
    return None if row is None else row[0]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block in one transaction: committed at its end, rolled back on any error or Ctrl-C (the COMMIT and
    the ROLLBACK themselves run with Ctrl-C held back, so a second press cannot cut them short).

    >>> with transaction(con):                                          # doctest: +SKIP
    ...     con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", row)
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        with ctrl_c_held():  # an interrupted COMMIT would leave it unknown what was written
            con.execute("COMMIT")
    except BaseException:
        with ctrl_c_held():
            rollback(con)
        raise


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the open transaction; an interrupted or failed statement may have ended it already."""
    import duckdb

    with suppress(duckdb.TransactionException):  # no transaction is active: DuckDB rolled it back already
        con.execute("ROLLBACK")
