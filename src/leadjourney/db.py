"""Tiny helpers over a DuckDB connection (results are always fully fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
