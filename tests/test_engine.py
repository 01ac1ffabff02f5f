"""engine.fetch: the same results as Ibis's own to_pyarrow, for tables, columns and scalars, without pandas;
each distinct expression compiled once; temporary tables typed as Ibis types them."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import ibis
import pyarrow as pa
import pytest

from leadjourney import engine
from leadjourney.analysis.journeys import Journeys
from leadjourney.config import default_config_text, parse_config
from leadjourney.engine import column_array, create_temp_table, fetch, fetch_rows, fetch_value


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


def test_an_expression_is_compiled_once_and_runs_on_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _backend(), _backend()
    lookup = ibis.memtable({"k": ["a", "b"], "label": ["A", "B"]})  # registered per connection before it runs
    def query(b: ibis.BaseBackend) -> ibis.Table:
        t = b.table("t")
        return t.join(lookup, "k").group_by("label").aggregate(n=t.n.sum()).order_by("label")
    assert fetch_rows(query(first)) == [{"label": "A", "n": 4}, {"label": "B", "n": 2}]
    compiled = []
    real = type(second).compile
    monkeypatch.setattr(type(second), "compile", lambda self, *a, **k: compiled.append(a) or real(self, *a, **k))
    second.raw_sql("UPDATE t SET n = n * 10")
    assert fetch_rows(query(second)) == [{"label": "A", "n": 40}, {"label": "B", "n": 20}]  # this connection's data
    assert compiled == []  # the SQL came from the first run
    t = second.table("t")
    assert fetch_value(t.n.max() + 1) == 31  # a new expression is compiled
    assert len(compiled) == 1


def test_a_prepared_query_is_built_once_per_key_and_runs_on_the_connection_given() -> None:
    first, second = _backend(), _backend()
    built: list[str] = []

    def sums(b: ibis.BaseBackend, key: str) -> ibis.Table:
        def build() -> ibis.Table:
            built.append(key)
            t = b.table("t")
            return t.filter(t.k.notnull()).group_by("k").aggregate(n=t.n.sum()).order_by("k")
        return engine.prepared(b, ("sums", key, b.table("t").op()), build)

    assert fetch_rows(sums(first, "a")) == [{"k": "a", "n": 4}, {"k": "b", "n": 2}]
    second.raw_sql("UPDATE t SET n = n * 10")
    assert fetch_rows(sums(second, "a")) == [{"k": "a", "n": 40}, {"k": "b", "n": 20}]  # this connection's data
    assert built == ["a"]  # built once for the key
    assert fetch_rows(sums(second, "b").filter(lambda r: r.k == "b")) == [{"k": "b", "n": 20}]  # composes
    assert built == ["a", "b"]
    lookup = ibis.memtable({"k": ["a"]})  # registered on each connection: never kept
    for b in (first, second):
        assert fetch_value(engine.prepared(b, ("memtable",), lambda b=b: b.table("t").semi_join(lookup, "k")).count()) == 2


def test_the_compiled_cache_is_bounded() -> None:
    cache = engine.CompiledCache(size=3)
    b = _backend()
    t = b.table("t")
    for i in range(5):
        sql = engine.compiled_sql(b, (t.n.max() + i).name("m").as_table(), cache)
        assert b.con.sql(sql).fetchall() == [(3 + i,)]
        engine.prepared(b, ("sum", i), lambda i=i: t.aggregate(s=t.n.sum() + i), cache)
    assert len(cache.compiled) == 3 and len(cache.prepared) == 3  # the latest three of each
    assert fetch_value(t.n.max() + 4) == 7  # the process' own cache is another one


def test_a_temporary_table_has_the_expressions_types() -> None:
    b = _backend()
    t = b.table("t")
    expr = t.mutate(small=t.n.cast("int8"), flag=t.n > 1, day=t.ts.date(), big=t.x.cast("decimal(12, 2)"),
                    none=ibis.literal(None, type="string"))
    made = create_temp_table(b, "lj_test", expr)
    assert made.op() == b.table("lj_test", database=("temp", "main")).op()  # what the catalog says, types included
    assert made.schema() == expr.schema()
    assert fetch(made.order_by("n")).equals(fetch(expr.order_by("n")))


def test_runs_name_their_tables_in_order_and_never_share_one() -> None:
    b = _backend()
    config = parse_config(default_config_text())
    a, other = Journeys(b, config), Journeys(b, config)
    t = b.table("t")
    a.materialize(t)
    a.materialize(t.filter(t.n > 1))
    other.materialize(t.filter(t.n > 2))  # open at the same time on the same connection: the next free name
    assert a._temporary == ["lj_tmp_1", "lj_tmp_2"] and other._temporary == ["lj_tmp_3"]
    assert fetch_value(b.table("lj_tmp_3").count()) == 1
    a.release()
    again = Journeys(b, config)
    again.materialize(t)
    assert again._temporary == ["lj_tmp_1"]  # the same names as the run before: its compiled SQL applies
    other.release()
    again.release()
    assert b.con.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall() == [(0,)]
