"""Results of Ibis expressions as Arrow, without loading pandas, and compiled once.

Ibis's DuckDB backend converts every result through a module that imports pandas (a quarter of a
second at start-up, most of what a small analysis costs) although the result stays Arrow. Here the
DuckDB path runs the same relation and converts with Ibis's Arrow-only converter; any other
backend (Spark, a warehouse) goes through ``expr.to_pyarrow()`` unchanged.

Compiling an expression to SQL is a pure function of the expression, and a third of what a small
selection's analysis costs; :func:`compiled_sql` remembers the last :data:`COMPILED_CACHE_SIZE`
results, so a run whose expressions equal an earlier run's (the same analysis on another
selection: the selection itself is a temporary table, see :func:`create_temp_table`) skips it.
Building the expressions costs about as much again; :func:`prepared` keeps the SQL of a query by
what it was built from, so the next run with the same inputs skips building it too.

>>> fetch_value(journeys.people().count())                     # doctest: +SKIP
990000
>>> fetch_rows(people.group_by("source").aggregate(n=people.count()))[:1]   # doctest: +SKIP
[{'source': 'seo', 'n': 151203}]
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import sqlglot as sg
from ibis.backends.duckdb import Backend as DuckDBBackend
from ibis.formats.pyarrow import PyArrowData

from leadjourney import sql_store
from leadjourney.workspace import MEMORY_ENV, memory_headroom_mb

COMPILED_CACHE_SIZE = 1024


class CompiledCache:
    """The SQL of the last ``size`` expressions compiled and of the last ``size`` queries prepared (thread-safe).

    One per process (:data:`COMPILED`) unless a caller passes its own."""

    def __init__(self, size: int = COMPILED_CACHE_SIZE) -> None:
        self.size = size
        self.compiled: OrderedDict[ops.Node, tuple[str, bool]] = OrderedDict()  # expression -> (SQL, needs the hooks)
        self.prepared: OrderedDict[Hashable, tuple[str, Any]] = OrderedDict()  # what a query is built from -> (SQL, schema)
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.compiled.clear()
            self.prepared.clear()

    def kept(self, key: Hashable, make: Callable[[], tuple[str, Any] | None]) -> tuple[str, Any] | None:
        """The (SQL, schema) prepared for ``key``: ``make()``'s, made once while among the last ``size``
        (``make()`` returning None: not to keep, made again next time)."""
        with self.lock:
            found = self.prepared.get(key)
            if found is not None:
                self.prepared.move_to_end(key)
                return found
        found = make()
        if found is not None:
            with self.lock:
                self.prepared[key] = found
                while len(self.prepared) > self.size:
                    self.prepared.popitem(last=False)
        return found


COMPILED = CompiledCache()
T = TypeVar("T")
log = logging.getLogger(__name__)


def fetch(expr: ir.Expr) -> pa.Table:
    """The result of ``expr`` (a table, column or scalar expression) as an Arrow table."""
    backend = expr._find_backend()
    if getattr(backend, "name", None) != "duckdb":
        result = expr.to_pyarrow()
        if isinstance(result, pa.Table):
            return result
        if isinstance(result, pa.Scalar):
            return pa.table({"value": [result.as_py()]})
        return pa.table({"value": result})  # a column
    table_expr = expr.as_table()
    schema = table_expr.schema()
    sql = compiled_sql(backend, table_expr)
    arrow = with_headroom(backend.con, lambda: _integers_cast(backend.con.sql(sql), schema).to_arrow_table())
    return PyArrowData.convert_table(arrow, schema)


# DuckDB's name of each integer type Ibis may expect
_DUCKDB_INTEGERS = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
                    "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT"}


def _integers_cast(relation: duckdb.DuckDBPyRelation, schema: sch.Schema) -> duckdb.DuckDBPyRelation:
    """``relation`` with its integer columns cast in DuckDB to the width Ibis expects (a sum of booleans is a
    HUGEINT, an Arrow decimal): casting the Arrow result instead loads ``pyarrow.compute``, a seventh of a
    second at every start. Other columns are left to Ibis's converter."""
    wanted = [_DUCKDB_INTEGERS.get(str(dtype).lstrip("!")) if dtype.is_integer() else None
              for dtype in schema.types]
    have = [str(t) for t in relation.types]
    if all(w is None or w == h for w, h in zip(wanted, have, strict=True)):
        return relation
    columns = []
    for name, want, got in zip(relation.columns, wanted, have, strict=True):
        ident = sg.to_identifier(name, quoted=True).sql("duckdb")
        columns.append(ident if want is None or want == got else f"CAST({ident} AS {want}) AS {ident}")
    return relation.project(", ".join(columns))


def compiled_sql(backend: DuckDBBackend, table_expr: ir.Table, cache: CompiledCache = COMPILED) -> str:
    """The DuckDB SQL of ``table_expr``, compiled once per distinct expression (kept in ``cache``).

    Registers what the expression needs on this connection first (in-memory tables, UDFs), as Ibis
    does before it runs an expression.
    """
    op = table_expr.op()
    with cache.lock:
        found = cache.compiled.get(op)
        if found is not None:
            cache.compiled.move_to_end(op)
    if found is None:
        found = (_stored_or_compiled(backend, table_expr), bool(op.find((ops.InMemoryTable, ops.ScalarUDF))))
        with cache.lock:
            cache.compiled[op] = found
            while len(cache.compiled) > cache.size:
                cache.compiled.popitem(last=False)
    sql, needs_hooks = found
    if needs_hooks:
        backend._run_pre_execute_hooks(table_expr)
    return sql


def _stored_or_compiled(backend: DuckDBBackend, table_expr: ir.Table) -> str:
    """The expression's SQL from the workspace's store (:mod:`leadjourney.sql_store`) when a run opened one,
    else compiled (and added to it)."""
    store = sql_store.active()
    if store is None:
        return backend.compile(table_expr)
    try:
        key = sql_store.fingerprint(table_expr.op())
    except sql_store.Unkeyable:
        return backend.compile(table_expr)
    sql = store.get(key)
    if sql is None:
        sql = backend.compile(table_expr)
        store.put(key, sql)
    return sql


def forget_compiled() -> None:
    """Forget every compiled expression and prepared query, as a new process starts without them."""
    COMPILED.clear()


def prepared(backend: ibis.BaseBackend, key: Hashable, build: Callable[[], ir.Table],
             cache: CompiledCache = COMPILED) -> ir.Table:
    """The query ``build()`` returns, built and compiled once per ``key`` (then read back as its SQL).

    ``key`` must name everything the query depends on: the builder, the operations of the tables it
    reads (equal for equal tables of the same database: name, schema, database) and its parameters.
    A query that registers in-memory tables or UDFs, and any backend but DuckDB, is built every time.

    >>> stats = prepared(backend, ("time_in_stage", wide.op(), as_of), lambda: spans_stats(wide, as_of))  # doctest: +SKIP
    """
    if getattr(backend, "name", None) != "duckdb":
        return build()
    built: list[ir.Table] = []

    def make() -> tuple[str, Any] | None:
        built.append(build())
        if built[0].op().find((ops.InMemoryTable, ops.ScalarUDF)):
            return None
        return compiled_sql(backend, built[0], cache), built[0].schema()

    found = cache.kept(key, make)
    if found is None:
        return built[0]
    sql, schema = found
    return ops.SQLQueryResult(sql, schema, backend).to_expr()


def with_headroom(con: duckdb.DuckDBPyConnection, run: Callable[[], T]) -> T:
    """``run()``; when DuckDB runs out of its memory budget (an operator it cannot spill), once more with the
    machine's (:func:`~leadjourney.workspace.memory_headroom_mb`), with a warning logged. The first error stands when
    the budget was the analyst's, or the second try fails too (inside a transaction the first aborted it)."""
    try:
        return run()
    except duckdb.OutOfMemoryException as first:
        budget = memory_headroom_mb()
        if budget is None:
            raise
        try:
            con.execute(f"SET memory_limit = '{budget}MB'")
            result = run()
        except duckdb.Error:
            raise first from None
        log.warning("a query needed more than DuckDB's memory budget and ran again with %s MB (%s sets the "
                    "budget)", f"{budget:,}", MEMORY_ENV)
        return result


def create_temp_table(backend: DuckDBBackend, name: str, expr: ir.Table) -> ir.Table:
    """``expr`` computed into the temporary table ``name`` (typed by its Ibis schema, as Ibis's own
    ``create_table`` does); the query is compiled once per distinct expression (:func:`compiled_sql`).
    """
    if getattr(backend, "name", None) == "pyspark":  # no temporary tables: a temporary view of computed rows
        backend._run_pre_execute_hooks(expr)  # the in-memory tables it joins (persona clusters' centres)
        # computed now and kept by the executors (memory, else their disks), the view's plan a scan of those
        # rows; a cached view (``.cache()``) was found by matching its plan, and a query with CTEs of its own
        # (Ibis writes one for any part read twice) renumbers the view's CTEs, so Spark computed the view again
        # from the Parquet in each such query (the nurture steps read the e-mails three times: 2-3x the
        # campaign analyses' CPU, and plans of a thousand nodes). Unlike a cache, the rows are not computed again
        # if an executor is lost: on a cluster of preemptible executors such a loss fails the run (run it again)
        frame = backend._session.sql(backend.compile(expr)).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        backend._cached_dataframes[name] = frame
        return backend.table(name)
    if getattr(backend, "name", None) != "duckdb":
        return backend.create_table(name, expr, temp=True)
    schema = expr.schema()
    columns = ", ".join(c.sql(backend.dialect) for c in schema.to_sqlglot_column_defs(backend.dialect))
    ident = sg.to_identifier(name, quoted=True).sql(backend.dialect)
    backend.con.execute(f"CREATE TEMPORARY TABLE {ident} ({columns})")
    names = ", ".join(sg.to_identifier(c, quoted=True).sql(backend.dialect) for c in expr.columns)
    insert = f"INSERT INTO {ident} ({names}) {compiled_sql(backend, expr)}"
    with_headroom(backend.con, lambda: backend.con.execute(insert))
    # what backend.table(name, database=("temp", "main")) returns, without asking the catalog again
    return ops.DatabaseTable(name, schema=schema, source=backend,
                             namespace=ops.Namespace(catalog="temp", database="main")).to_expr()


def create_temp_view(backend: DuckDBBackend, name: str, expr: ir.Table) -> ir.Table:
    """``expr`` as the temporary view ``name``: a name later queries read, compiled once, whose query
    DuckDB runs (and optimizes) inside each of them."""
    if getattr(backend, "name", None) != "duckdb":
        return backend.create_view(name, expr, overwrite=True)
    ident = sg.to_identifier(name, quoted=True).sql(backend.dialect)
    backend.con.execute(f"CREATE TEMPORARY VIEW {ident} AS {compiled_sql(backend, expr)}")
    return ops.DatabaseTable(name, schema=expr.schema(), source=backend,
                             namespace=ops.Namespace(catalog="temp", database="main")).to_expr()


def drop_temp(backend: ibis.BaseBackend, name: str, *, view: bool) -> None:
    """Drop what :func:`create_temp_table` (or, with ``view``, :func:`create_temp_view`) made, if it exists."""
    kind = getattr(backend, "name", None)
    if kind == "duckdb":
        backend.raw_sql(f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS {sg.to_identifier(name, quoted=True).sql('duckdb')}")
    elif kind == "pyspark":
        frame = backend._cached_dataframes.pop(name, None)
        backend._session.catalog.dropTempView(name)
        if frame is not None:  # its rows' blocks (a persisted RDD; without py4j, Spark Connect, left to Spark's cleaner)
            with contextlib.suppress(Exception):
                frame._jdf.queryExecution().analyzed().rdd().unpersist(False)
    else:  # a SQL warehouse (Ibis's Postgres drop_table forgets the name of a temporary table: plain SQL)
        dialect = backend.dialect  # type: ignore[attr-defined]
        result = backend.raw_sql(f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS "  # type: ignore[attr-defined]
                                 f"{sg.to_identifier(name, quoted=True).sql(dialect)}")
        if hasattr(result, "close"):  # a cursor
            result.close()


def fetch_rows(expr: ir.Expr) -> list[dict[str, Any]]:
    """The result of ``expr`` as a list of row dicts (for the small, aggregated results analyses read)."""
    return fetch(expr).to_pylist()


def fetch_value(expr: ir.Scalar) -> Any:
    """The single value of a scalar expression (a count, a minimum), as a Python object."""
    table = fetch(expr)
    return table.column(0)[0].as_py() if table.num_rows else None


def column_array(table: pa.Table, name: str, dtype: type = float) -> np.ndarray:
    """One column of a (small, aggregated) result as a NumPy array; NULL is NaN for floats.

    Arrow's own ``to_numpy`` would load pandas, which is what :func:`fetch` avoids.
    """
    return np.array(table.column(name).to_pylist(), dtype=dtype)
