"""Ibis's SQL compilers load one dialect at a time (leadjourney.lazy_compilers): a DuckDB analysis does not
pay for importing every dialect's compiler, and the other backends still find theirs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

CHILD = """
import sys
import leadjourney
import duckdb, ibis
from leadjourney.engine import fetch_rows
con = duckdb.connect()
con.execute("create table leads as select * from (values ('seo'), ('seo'), ('ads')) v(source)")
t = ibis.duckdb.from_connection(con).table("leads")
print(sorted((r["source"], r["n"]) for r in fetch_rows(t.group_by("source").aggregate(n=t.count()))))
print(sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("ibis.backends.sql.compilers.")))
from ibis.backends.sql.compilers import PostgresCompiler
import ibis.backends.sql.compilers as sc
print(PostgresCompiler.__name__, sc.pyspark.PySparkCompiler.__name__)
"""


def test_only_the_dialect_in_use_is_loaded_and_the_others_on_demand() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": SRC}).stdout.splitlines()
    assert out[0] == "[('ads', 1), ('seo', 2)]"
    loaded = ast.literal_eval(out[1])
    assert "duckdb" in loaded
    assert not {"athena", "bigquery", "trino", "snowflake", "postgres", "pyspark"} & set(loaded)
    assert out[2] == "PostgresCompiler PySparkCompiler"
