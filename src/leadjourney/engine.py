"""Results of Ibis expressions as Arrow, without loading pandas.

Ibis's DuckDB backend converts every result through a module that imports pandas (a quarter of a
second at start-up, most of what a small analysis costs) although the result stays Arrow. Here the
DuckDB path runs the same relation and converts with Ibis's Arrow-only converter; any other
backend (Spark, a warehouse) goes through ``expr.to_pyarrow()`` unchanged.

>>> fetch_value(journeys.people().count())                     # doctest: +SKIP
990000
>>> fetch_rows(people.group_by("source").aggregate(n=people.count()))[:1]   # doctest: +SKIP
[{'source': 'seo', 'n': 151203}]
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from ibis.formats.pyarrow import PyArrowData


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
    relation = backend._to_duckdb_relation(table_expr)  # registers in-memory tables, compiles, plans
    return PyArrowData.convert_table(relation.to_arrow_table(), table_expr.schema())


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
