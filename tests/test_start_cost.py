"""What an analysis loads at start (each a fraction of a second of every run): Ibis's SQL compilers one dialect
at a time (leadjourney.lazy_compilers), and no ``pyarrow.compute`` (engine.fetch casts integers in DuckDB)."""

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
from leadjourney.engine import fetch, fetch_rows
con = duckdb.connect()
con.execute("create table leads as select * from (values ('seo', true), ('seo', false), ('ads', true)) v(source, mql)")
t = ibis.duckdb.from_connection(con).table("leads")
counts = t.group_by("source").aggregate(n=t.count(), mql=t.mql.sum(), tiny=ibis.literal(1, "int8"))
print(sorted((r["source"], r["n"], r["mql"], r["tiny"]) for r in fetch_rows(counts)))
print({f.name: str(f.type) for f in fetch(counts).schema})
print(sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("ibis.backends.sql.compilers.")))
print("pyarrow.compute" in sys.modules)
from ibis.backends.sql.compilers import PostgresCompiler
import ibis.backends.sql.compilers as sc
print(PostgresCompiler.__name__, sc.pyspark.PySparkCompiler.__name__)
"""


def test_an_analysis_loads_one_dialect_and_no_arrow_compute() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": SRC}).stdout.splitlines()
    assert out[0] == "[('ads', 1, 1, 1), ('seo', 2, 1, 1)]"
    # a sum of booleans (a DuckDB HUGEINT) and an int8 literal come back as the integers Ibis types them
    assert ast.literal_eval(out[1]) == {"source": "string", "n": "int64", "mql": "int64", "tiny": "int8"}
    loaded = ast.literal_eval(out[2])
    assert "duckdb" in loaded
    assert not {"athena", "bigquery", "trino", "snowflake", "postgres", "pyspark"} & set(loaded)
    assert out[3] == "False"
    assert out[4] == "PostgresCompiler PySparkCompiler"  # the other backends still find theirs
