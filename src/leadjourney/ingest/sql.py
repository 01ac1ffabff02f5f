"""Small SQL builders shared by the ingest modules."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import ibis
    import ibis.expr.types as ir


def ident(name: str) -> str:
    """Quote a column name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + text.replace("'", "''") + "'"


WHOLE_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def is_whole_number(duck_type: str) -> bool:
    """Whether ``duck_type`` (as DuckDB names a column's type) holds whole numbers."""
    return duck_type.upper() in WHOLE_NUMBERS


def blank_to_null(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def norm_key(expr: str) -> str:
    """SQL twin of :func:`leadjourney.config.normalize_key`."""
    return f"lower(regexp_replace(CAST({expr} AS VARCHAR), '[^A-Za-z0-9]+', '', 'g'))"


def alias_case(expr: str, aliases: Mapping[str, str], default: str) -> str:
    """``CASE`` mapping the normalized ``expr`` through ``aliases`` (normalized key -> value)."""
    if not aliases:
        return default
    branches = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(aliases.items()))
    return f"(CASE {norm_key(expr)} {branches} ELSE {default} END)"


def compiled_sql(con: duckdb.DuckDBPyConnection, what: str, options: Hashable, tables: Sequence[str],
                 build: Callable[[ibis.BaseBackend], ir.Table]) -> str:
    """``ibis.to_sql(build(backend))`` over ``con``, kept in the process's query cache
    (:meth:`~leadjourney.engine.CompiledCache.kept`) for the same ``what``, ``options`` and columns (names and
    types) of the ``tables`` it reads: building and compiling a derived table's ibis query costs ~0.1 CPU s, a
    third of a small ingest, and gives the same SQL text each time (no names of the database in it), while
    running the query on a few thousand rows costs a tenth of that."""
    import ibis

    from leadjourney.engine import COMPILED

    columns = tuple(tuple(map(str, r[:2])) for t in tables for r in con.execute(f"DESCRIBE {t}").fetchall())
    found = COMPILED.kept(("ingest", what, options, tuple(tables), columns),
                          lambda: (str(ibis.to_sql(build(ibis.duckdb.from_connection(con)), dialect="duckdb")), None))
    assert found is not None
    return found[0]
