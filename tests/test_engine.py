"""engine.fetch: the same results as Ibis's own to_pyarrow, for tables, columns and scalars, without pandas."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import ibis
import pyarrow as pa

from leadjourney.engine import column_array, fetch, fetch_rows, fetch_value


def _backend() -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.raw_sql("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', 1::BIGINT, 0.5::DOUBLE, TIMESTAMP '2026-01-01'), ('b', 2, NULL, NULL),
        ('a', 3, 1.5, TIMESTAMP '2026-01-03'), (NULL, NULL, 2.0, TIMESTAMP '2026-01-02')) v(k, n, x, ts)""")
    return con


def test_fetch_equals_ibis_for_tables_columns_and_scalars() -> None:
    t = _backend().table("t")
    grouped = t.group_by("k").aggregate(total=t.n.sum(), mean=t.x.mean(), first=t.ts.min()).order_by("k")
    assert fetch(grouped).equals(grouped.to_pyarrow())
    assert fetch(grouped).schema == grouped.to_pyarrow().schema  # e.g. a sum stays int64, not a decimal
    assert fetch(t.n).column(0).to_pylist() == t.n.to_pyarrow().to_pylist()
    assert fetch_value(t.n.sum()) == 6 and fetch_value(t.ts.max()) == datetime(2026, 1, 3)
    assert fetch_rows(grouped)[0] == {"k": "a", "total": 4, "mean": 1.0, "first": datetime(2026, 1, 1)}


def test_column_array_keeps_nulls_as_nan() -> None:
    table = pa.table({"x": [1.0, None, 2.5], "n": [1, 2, 3]})
    x = column_array(table, "x")
    assert x[0] == 1.0 and x[2] == 2.5 and x[1] != x[1]  # NaN
    assert column_array(table, "n", int).tolist() == [1, 2, 3]


def test_an_analysis_does_not_load_pandas() -> None:
    code = ("import sys\nsys.path.insert(0, 'tests')\nfrom test_engine import _backend\nfrom leadjourney.engine import fetch_rows\n"
            "t = _backend().table('t')\nfetch_rows(t.group_by('k').aggregate(n=t.n.sum()))\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
