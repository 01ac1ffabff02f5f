"""Small SQL builders shared by the ingest modules."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
    def compiled() -> tuple[str, None]:
        compiler = ingest_compiler()
        query = compiler.to_sqlglot(build(ibis.duckdb.from_connection(con)).unbind())
        return query.sql(dialect=compiler.dialect, pretty=True), None

    found = COMPILED.kept(("ingest", what, options, tuple(tables), columns), compiled)
    assert found is not None
    return found[0]


@functools.cache
def ingest_compiler() -> Any:
    """Ibis's DuckDB compiler, with ``argmin`` / ``argmax`` as DuckDB's ``arg_min_null`` / ``arg_max_null``
    aggregates (the value at the smallest / largest key, NULL kept as a value, as Ibis defines them) instead of
    Ibis's ``first(value ORDER BY key)``: an ordered aggregate, which sorts each group (web_visits' seven of them
    cost 1.2x the CPU of the whole query at 10M web events)."""
    from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

    class IngestCompiler(DuckDBCompiler):
        def visit_ArgMin(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:
            return self.agg.arg_min_null(arg, key, where=where)

        def visit_ArgMax(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:
            return self.agg.arg_max_null(arg, key, where=where)

    return IngestCompiler()
