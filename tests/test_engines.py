"""[engine]: the workspace's tables exported as Parquet, and the same analysis on Spark as on DuckDB.

The export and the option are checked with DuckDB alone (fast). The ``spark`` tests start a local Spark
session (a JDK and pyspark; ``make test-spark``, its own CI step) and compare every number of ``analyze``'s
JSON with DuckDB's: counts exactly, times and rates to 1e-9.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import copy_workspace, csv_workspace, run_cli
from leadjourney.config import EngineSettings, parse_config
from leadjourney.config import default_config_text as default_text
from leadjourney.errors import OptionError
from leadjourney.ingest import person_engagement, person_journeys, person_touches, web_visits
from leadjourney.table_export import DERIVED, current_export, export_tables, read_export
from leadjourney.workspace import Workspace

NOW = datetime(2026, 6, 30)
LEADS = """lead_id,created_at,source,employee_count,Notes
L1,2026-05-01 09:00:00.250,seo,12,called twice
L2,2026-05-02 10:30:00,ppc,400,
L3,2026-05-03 11:00:00,seo,,
"""
EVENTS = """lead_id,stage,entered_at
L1,MQL,2026-05-02 09:00:00.750
L1,SQL,2026-05-04 13:15:30.125
L2,MQL,2026-05-03 10:30:00
L3,MQL,2026-05-04 11:00:00
L3,SQL,2026-05-10 08:00:00
"""
TOUCHES = """lead_id,occurred_at,kind,channel,actor
L1,2026-05-02 09:30:00.500,call,phone,person
L2,2026-05-03 12:00:00,email,email,person
"""

_no_spark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="needs pyspark (pip install pyspark) and a JDK (apt-get install -y openjdk-17-jre-headless); "
           "make test-spark installs them in CI (.ci/run)",
)


def test_engine_option_is_declared_once_and_checked() -> None:
    config = parse_config(default_text())
    assert config.engine == EngineSettings()  # the commented default: duckdb, local[*], tables
    assert default_text().count("\n[engine]\n") == 1
    spark = parse_config(default_text().replace('backend = "duckdb"', 'backend = "pyspark"'))
    assert spark.engine.backend == "pyspark"
    with pytest.raises(OptionError, match=r"engine.backend: expected one of duckdb, pyspark, postgres, found 'spark'"):
        parse_config(default_text().replace('backend = "duckdb"', 'backend = "spark"'))
    with pytest.raises(OptionError, match=r"engine.cluster: unknown option"):
        parse_config(default_text().replace('backend = "duckdb"', 'backend = "duckdb"\ncluster = "x"'))
    with pytest.raises(OptionError, match=r"engine.master: expected a Spark master URL"):
        parse_config(default_text().replace('master = "local[*]"', 'master = " "'))
    postgres = parse_config(default_text().replace('backend = "duckdb"', 'backend = "postgres"'))
    assert (postgres.engine.backend, postgres.engine.url_env, postgres.engine.schema) == (
        "postgres", "LEADJOURNEY_WAREHOUSE_URL", "leadjourney")
    with pytest.raises(OptionError, match=r"engine.url_env: expected the name of an environment variable") as pasted:
        parse_config(default_text().replace('url_env = "LEADJOURNEY_WAREHOUSE_URL"',
                                            'url_env = "postgresql://u:pw-9x@host/db"'))  # a URL pasted in: refused
    assert "pw-9x" not in str(pasted.value)  # ... and not repeated
    with pytest.raises(OptionError, match=r"engine.schema: expected a lower-case schema name"):
        parse_config(default_text().replace('schema = "leadjourney"', 'schema = "x; drop"'))


def _with_spark_conf(line: str) -> str:
    return default_text().replace("spark_conf = {}", line)


def test_spark_conf_option_is_read_as_text_pairs_and_checked() -> None:
    assert default_text().count("\nspark_conf = {}\n") == 1  # declared once, empty: the machine's defaults
    inline = parse_config(_with_spark_conf(
        'spark_conf = { "spark.driver.memory" = "8g", "spark.sql.shuffle.partitions" = 64, '
        '"spark.sql.adaptive.enabled" = true }'))
    assert inline.engine.spark_conf == (("spark.driver.memory", "8g"), ("spark.sql.adaptive.enabled", "true"),
                                        ("spark.sql.shuffle.partitions", "64"))
    nested = parse_config(default_text().replace("spark_conf = {}", "")
                          + '\n[engine.spark_conf]\nspark.driver.memory = "8g"\nspark.executor.memory = "512m"\n')
    assert nested.engine.spark_conf == (("spark.driver.memory", "8g"), ("spark.executor.memory", "512m"))
    with pytest.raises(OptionError, match=r"engine.spark_config: unknown option; did you mean 'spark_conf'\?"):
        parse_config(default_text().replace("spark_conf = {}", 'spark_config = { "spark.driver.memory" = "8g" }'))
    refused = {
        'spark_conf = { "driver.memory" = "8g" }': r"engine.spark_conf.driver.memory: expected a Spark property name",
        'spark_conf = { "spark.driver.memory" = "8 GB" }': r"spark_conf.spark.driver.memory: expected a size like",
        'spark_conf = { "spark.jars" = ["a.jar"] }': r"spark_conf.spark.jars: expected text, a number or true/false",
        'spark_conf = { "spark.app.name" = " " }': r"spark_conf.spark.app.name: expected a value, found nothing",
        'spark_conf = "spark.driver.memory=8g"': r"engine.spark_conf: expected dict",
    }
    for line, message in refused.items():
        with pytest.raises(OptionError, match=message):
            parse_config(_with_spark_conf(line))


def test_local_spark_session_is_sized_from_the_machine_unless_configured() -> None:
    from leadjourney.spark import local_spark_conf, spark_conf_for

    gib = 2**30
    assert local_spark_conf(2, 24 * gib) == {"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "12g"}
    assert local_spark_conf(1, gib + gib // 2) == {"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"}
    assert local_spark_conf(None, None) == {"spark.sql.shuffle.partitions": "2"}  # unknown memory: Spark's own
    local = spark_conf_for("local[*]", (("spark.driver.memory", "3g"),))
    assert local["spark.driver.memory"] == "3g" and local["spark.driver.host"] == "127.0.0.1"  # configured wins
    assert local["spark.sql.shuffle.partitions"].isdigit() and local["spark.sql.session.timeZone"] == "UTC"
    cluster = spark_conf_for("spark://10.0.0.5:7077", (("spark.executor.memory", "16g"),))
    assert "spark.driver.memory" not in cluster and "spark.driver.host" not in cluster  # the cluster sizes itself
    assert cluster["spark.executor.memory"] == "16g"


def test_derived_tables_named_as_ingest_names_them() -> None:
    assert set(DERIVED) == {person_touches.TABLE, person_journeys.TABLE, person_engagement.TABLE,
                            web_visits.STITCHES, web_visits.VISITS}


def _workspace(root: Path) -> Workspace:
    return csv_workspace(root, leads=LEADS, stage_events=EVENTS, touchpoints=TOUCHES)


def test_export_writes_every_table_once_per_workspace_state(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    assert current_export(ws) is None
    export = export_tables(ws)
    assert export.folder == ws.root / "tables" and current_export(ws) == export
    with ws.connect(read_only=True) as con:
        for table, rows in export.tables.items():
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (rows,)
            assert pq.read_metadata(export.path(table)).num_rows == rows
    assert {"leads", "stage_events", "touchpoints", "person_journeys", "person_touches", "meta"} <= set(export.tables)
    leads = pq.read_table(export.path("leads"))
    assert str(leads.schema.field("extra").type) == "string"  # JSON as text: Spark knows no JSON type
    created = leads.sort_by("lead_id").column("created_at").to_pylist()
    assert created[0] == datetime(2026, 5, 1, 9, 0, 0, 250000)  # sub-second times kept
    stamp = export.path("leads").stat().st_mtime_ns
    assert export_tables(ws) == export and export.path("leads").stat().st_mtime_ns == stamp  # unchanged: kept

    (ws.root / "stage_events.csv").write_text(EVENTS + "L2,SQL,2026-05-06 10:00:00\n", "utf-8")
    run_cli("ingest", str(ws.root))
    assert current_export(ws) is None  # the workspace changed: the export no longer matches
    again = export_tables(ws)
    assert again.fingerprint != export.fingerprint and again.tables["stage_events"] == export.tables["stage_events"] + 1
    assert sorted(p.name for p in ws.root.iterdir() if p.name.startswith(".tables")) == []  # no staging left


def test_export_interrupted_leaves_the_previous_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws")
    before = export_tables(ws)
    files = sorted(p.name for p in before.folder.iterdir())
    from leadjourney import table_export

    def interrupted(con: Any, table: str) -> str:
        if table == "touchpoints":
            raise KeyboardInterrupt
        return original(con, table)

    original = table_export._select
    monkeypatch.setattr(table_export, "_select", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_tables(ws, force=True)
    assert read_export(before.folder) == before and sorted(p.name for p in before.folder.iterdir()) == files
    assert [p.name for p in ws.root.iterdir() if p.name.startswith(".tables")] == []


def test_export_tables_command(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    result = run_cli("export-tables", str(ws.root))
    assert result.returncode == 0, result.stderr
    export = current_export(ws)
    assert export is not None and f"{export.tables['leads']}" in result.stdout and "tables" in result.stdout
    assert '[engine] backend = "pyspark" reads them' in result.stdout  # the option's name printed, not eaten as markup


def test_engine_flag_is_checked_in_one_line(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    config = ws.config_path.read_text("utf-8")
    result = run_cli("analyze", str(ws.root), "--engine", "spark")
    assert result.returncode == 1 and "\n" not in result.stderr.strip()
    assert result.stderr.strip() == "error: --engine: expected one of duckdb, pyspark, postgres, found 'spark'"
    assert ws.config_path.read_text("utf-8") == config


@pytest.mark.parametrize("command", [
    ["analyze"], ["map", "--format", "mermaid", "--no-tables"], ["report", "--format", "md"], ["monitor"],
    ["dashboard", "--export", "snapshot.html"], ["touchpoints"], ["personas"], ["paths"],
    ["analyze", "--engine", "duckdb"], ["touchpoints", "--engine", "duckdb"]])
def test_engine_flag_runs_every_analysis_command_on_that_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                command: list[str]) -> None:
    """``--engine pyspark`` with pyspark missing: each command reaches the Spark backend (and says how to
    install it); ``--engine duckdb`` runs on the DuckDB file over a config that names Spark. The config file
    is never changed."""
    ws = _workspace(tmp_path / "ws")
    run_cli("analyze", str(ws.root), "--baseline")  # what the monitor and the report compare with
    on_duckdb = "--engine" in command
    if on_duckdb:
        ws.config_path.write_text(ws.config_path.read_text("utf-8").replace('backend = "duckdb"', 'backend = "pyspark"'),
                                  "utf-8")
    config = ws.config_path.read_text("utf-8")
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)  # as if pyspark were not installed
    args = [command[0], str(ws.root), *command[1:]] + ([] if on_duckdb else ["--engine", "pyspark"])
    if command[0] == "monitor":
        args += ["--as-of", "2026-06-30"]
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    if on_duckdb:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == (2 if command[0] == "monitor" else 1), result.stderr
        assert "\n" not in result.stderr.strip() and "pip install 'leadjourney[spark]'" in result.stderr
    assert ws.config_path.read_text("utf-8") == config


# --- on Spark ---------------------------------------------------------------------------------------------


def differences(duck: Any, spark: Any, path: str = "") -> list[str]:
    """Where two JSON values differ: any key, length or text; integers exactly; floats beyond 1e-9."""
    if isinstance(duck, dict) and isinstance(spark, dict):
        if duck.keys() != spark.keys():
            return [f"{path}: keys {sorted(duck.keys() ^ spark.keys())}"]
        return [d for k in duck for d in differences(duck[k], spark[k], f"{path}/{k}")]
    if isinstance(duck, list) and isinstance(spark, list):
        if len(duck) != len(spark):
            return [f"{path}: {len(duck)} items vs {len(spark)}"]
        return [d for i, (a, b) in enumerate(zip(duck, spark, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(duck, float) and isinstance(spark, float | int) and not isinstance(spark, bool):
        close = math.isclose(duck, spark, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(duck) and math.isnan(spark))
        return [] if close else [f"{path}: {duck!r} vs {spark!r}"]
    return [] if type(duck) is type(spark) and duck == spark else [f"{path}: {duck!r} vs {spark!r}"]


def test_differences_sees_every_kind_of_change() -> None:
    base = {"n": 3, "rate": 0.5, "rows": [{"stage": "MQL", "days": 1.25}]}
    assert differences(base, json.loads(json.dumps(base))) == []
    assert differences(base, {**base, "n": 4}) == ["/n: 3 vs 4"]
    assert differences(base, {**base, "rate": 0.5 + 1e-7}) != []
    assert differences(base, {**base, "rate": 0.5 + 1e-12}) == []
    assert differences(base, {**base, "rows": []}) == ["/rows: 1 items vs 0"]
    assert differences(base, {**base, "rows": [{"stage": "SQL", "days": 1.25}]}) == ["/rows[0]/stage: 'MQL' vs 'SQL'"]


def _on(ws: Workspace, backend: str) -> Workspace:
    ws = Workspace.open(ws.root)
    ws.config = dataclasses.replace(ws.config, engine=EngineSettings(backend=backend))
    return ws


@pytest.mark.spark
@_no_spark
def test_analyze_on_spark_equals_duckdb(shared_generated: Any, tmp_path: Path) -> None:
    from leadjourney.analysis.report import analyze

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path / "ws")
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    spark = analyze(_on(ws, "pyspark"), now=NOW).to_dict()
    assert duck["n_people"] > 1000 and duck["time_in_stage"]["transitions"]
    assert differences(duck, spark) == []
    assert (export := read_export(ws.root / "tables")) is not None and export.derived_by == "pyspark"


def _sorted_rows(table: Any) -> list[tuple[Any, ...]]:
    """A pyarrow table's rows, sorted (None before any value)."""
    rows = [tuple(r.values()) for r in table.to_pylist()]
    return sorted(rows, key=lambda row: [(v is not None, v) for v in row])


def _row_differences(duck: list[tuple[Any, ...]], spark: list[tuple[Any, ...]]) -> list[str]:
    out = [f"{len(duck)} rows vs {len(spark)}"] if len(duck) != len(spark) else []
    for i, (a, b) in enumerate(zip(duck, spark, strict=False)):
        out += [f"row {i}{d}" for d in differences(list(a), list(b))]
    return out[:10]


@pytest.mark.spark
@_no_spark
def _spark_tables_differences(ws: Workspace) -> dict[str, list[str]]:
    """Per derived table, where the one Spark built for the export differs from DuckDB's (columns, rows)."""
    export = export_tables(ws, engine=EngineSettings(backend="pyspark"))
    assert export.derived_by == "pyspark" and current_export(ws) == export
    found: dict[str, list[str]] = {}
    with ws.connect(read_only=True) as con:
        for table in DERIVED:
            assert export.path(table).is_dir()  # written by Spark (DuckDB's COPY writes one file)
            spark = pq.read_table(export.path(table))
            duck = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
            assert spark.num_rows == export.tables[table] == duck.num_rows, table
            found[table] = ([f"columns {duck.column_names} vs {spark.column_names}"]
                            if spark.column_names != duck.column_names else [])
            found[table] += _row_differences(_sorted_rows(duck), _sorted_rows(spark))
    return found


@pytest.mark.spark
@_no_spark
def test_spark_builds_the_derived_tables_as_duckdb_does(shared_generated: Any, tmp_path: Path) -> None:
    """person_touches, person_journeys (engagement columns included), person_engagement and the web tables
    (web_stitches, web_visits from the generated GA4 export), built by Spark from the exported canonical tables:
    the rows DuckDB's ingest built, value for value (times exactly, floats to 1e-9)."""
    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120, web=True)
    ws = copy_workspace(shared, tmp_path / "ws")
    assert _spark_tables_differences(ws) == {t: [] for t in DERIVED}
    export = read_export(ws.root / "tables")
    assert export is not None and min(export.tables[t] for t in DERIVED) > 500
    assert export.tables[web_visits.VISITS] > 2000
    assert {"first_human_after_form_at", "re_kind"} <= set(pq.read_schema(
        next(export.path("person_journeys").glob("*.parquet"))).names)  # the engagement columns in journeys
    duck_export = export_tables(ws, engine=EngineSettings(backend="duckdb"))  # another builder: exported again
    assert duck_export.derived_by == "duckdb" and duck_export.path("person_touches").is_file()


@pytest.mark.spark
@_no_spark
def test_spark_cuts_and_parses_web_visits_as_duckdb_does(tmp_path: Path) -> None:
    """A clickstream without session ids (visits cut at the 30-minute gap: 29:59, 30:00, 30:00.000001, the same
    instant twice) and pages of odd shapes (a line break, a port, no scheme, upper-case utm tags): Spark's
    web tables equal DuckDB's."""
    from test_web_tables import _clickstream_ws

    ws = _clickstream_ws(tmp_path / "ws", gapped=True)
    assert _spark_tables_differences(ws) == {t: [] for t in DERIVED}


@pytest.mark.spark
@_no_spark
def test_analyze_on_spark_keeps_sub_second_times(tmp_path: Path) -> None:
    """Hand-made times with fractions of a second: Spark's whole-second epoch would shift every duration."""
    from leadjourney.analysis.report import analyze

    ws = _workspace(tmp_path / "ws")
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    spark = analyze(_on(ws, "pyspark"), now=NOW).to_dict()
    assert differences(duck, spark) == []
    first = duck["time_in_stage"]["transitions"][0]
    assert first["n_completed"] == 3 and first["mean_days"] != round(first["mean_days"], 4)


def test_time_in_stage_quantiles_one_call_each_equal_the_multi_quantile() -> None:
    """A warehouse without a multi-quantile aggregate gets one call per percentile: the same numbers."""
    import ibis

    from leadjourney.analysis.time_in_stage import TimeInStage, _unpack_quantiles
    from leadjourney.engine import fetch_rows

    backend = ibis.duckdb.connect()
    days = [0.5, 1.25, 2.0, 7.75, 3.5, 11.0, 0.125, 4.0]
    spans = backend.create_table("spans", ibis.memtable({"k": [0] * 5 + [1] * 3, "days": days}))
    multi = sorted((_unpack_quantiles(r) for r in fetch_rows(TimeInStage._stats(spans))), key=lambda r: r["k"])
    each = sorted((_unpack_quantiles(r) for r in fetch_rows(TimeInStage._stats(spans, multi=False))),
                  key=lambda r: r["k"])
    assert multi == each and multi[0]["q50"] == 2.0 and multi[1]["q25"] == 2.0625  # 0.125 .. 4.0 interpolated
    assert "quantiles" not in TimeInStage._stats(spans, multi=False).columns


@pytest.mark.spark
@_no_spark
def test_web_journey_on_spark_equals_duckdb(tmp_path: Path) -> None:
    """The web journey (visits, landing pages, stitching) from a clickstream: the same numbers on Spark."""
    from leadjourney.analysis.report import analyze
    from leadjourney.ingest import ingest
    from test_web_journey import CLICKSTREAM, _clickstream

    root = tmp_path / "ws"
    ws = Workspace.init(root)
    _clickstream(root)
    ws.set_sources([{"name": t, "path": f"{t}.csv", "format": "csv", "table": t}
                    for t in ("leads", "touchpoints", "stage_events", "opportunities")] + [CLICKSTREAM])
    ingest(Workspace.open(root))
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    spark = analyze(_on(ws, "pyspark"), now=NOW).to_dict()
    assert duck["web_journey"]["landing_pages"]["rows"]
    assert differences(duck, spark) == []


@pytest.mark.spark
@_no_spark
def test_spark_session_gets_the_configured_conf(tmp_path: Path) -> None:
    from leadjourney.backends import connect_backend
    from leadjourney.spark import spark_conf_for

    ws = _workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text("utf-8").replace(
        'backend = "duckdb"', 'backend = "pyspark"').replace(
        "spark_conf = {}", 'spark_conf = { "spark.sql.shuffle.partitions" = 3, "spark.sql.ansi.enabled" = false }'),
        "utf-8")
    ws = Workspace.open(ws.root)
    with connect_backend(ws) as backend:
        session = backend._session
        assert session.conf.get("spark.sql.shuffle.partitions") == "3"
        assert session.conf.get("spark.sql.ansi.enabled") == "false"
        # the JVM's memory: set once, when the process's first session started (no test here configures it)
        assert session.sparkContext.getConf().get("spark.driver.memory") == spark_conf_for("local[*]")[
            "spark.driver.memory"]
        assert backend.table("leads").count().to_pyarrow().as_py() == 3


@pytest.mark.spark
@_no_spark
def test_spark_sql_divides_in_doubles_and_keeps_fractions_of_seconds() -> None:
    """Ibis's own Spark SQL: ``86400.0`` a DECIMAL (quotients rounded to 6-7 places), epoch seconds whole."""
    import ibis

    from leadjourney.spark import _exact_spark_compiler

    ibis.pyspark  # noqa: B018  (registers the backend's options)
    t = ibis.table({"a": "timestamp", "b": "timestamp"}, name="t")
    days = t.select(days=(t.b.epoch_seconds() - t.a.epoch_seconds()) / 86400.0)
    sql = _exact_spark_compiler().to_sqlglot(days).sql("spark")
    assert "CAST(86400.0 AS DOUBLE)" in sql and "UNIX_MICROS" in sql and "UNIX_TIMESTAMP" not in sql


@pytest.mark.spark
@_no_spark
def test_spark_lowers_text_as_duckdb_does() -> None:
    """Every character DuckDB lowers, and words where Java's rules differ (a word-final sigma, a dotted capital
    I, the Kelvin sign): Spark's lower() gives DuckDB's text (Java's gave ``οδος`` and ``i̇stanbul``)."""
    import duckdb
    import ibis

    from leadjourney.casefold import lower_map
    from leadjourney.spark import spark_backend, spark_session

    upper, _ = lower_map()
    words = ["ΟΔΟΣ", "ΣΑΣ ΣΑΣ.", "İSTANBUL", "\u212aELVIN", "MÜNCHEN", "Straße", "ǅemal", "plain ascii", "",
             *[upper[i:i + 40] for i in range(0, len(upper), 40)]]
    t = ibis.memtable({"i": list(range(len(words))), "w": words})
    lowered = t.select("i", low=t.w.lower()).order_by("i")
    found = spark_backend(spark_session("local[1]")).to_pyarrow(lowered).column("low").to_pylist()
    duck = duckdb.connect()
    expected = [duck.execute("SELECT lower(?)", [w]).fetchall()[0][0] for w in words]  # type: ignore[index]
    assert [(w, f, e) for w, f, e in zip(words, found, expected, strict=True) if f != e] == []
    assert expected[0] == "οδοσ" and expected[2] == "istanbul"


@pytest.mark.spark
@_no_spark
def test_spark_matches_case_insensitive_patterns_as_duckdb_does() -> None:
    """Persona job-title rules and ``matches`` criteria on titles with accents, Greek, the long s: Spark (Java's
    ``(?i)`` folds ASCII only) matches as DuckDB's RE2 does, through casefold.case_insensitive."""
    import duckdb
    import ibis

    from leadjourney.casefold import case_insensitive
    from leadjourney.spark import spark_backend, spark_session
    from test_casefold import PATTERNS, TITLES

    t = ibis.memtable({"i": list(range(len(TITLES))), "title": TITLES})
    expr = t.select("i", **{f"p{j}": t.title.re_search(case_insensitive(p)) for j, p in enumerate(PATTERNS)})
    spark = spark_backend(spark_session("local[1]"))
    found = spark.to_pyarrow(expr.order_by("i")).to_pylist()
    naive = t.select("i", **{f"p{j}": t.title.re_search(f"(?i){p}") for j, p in enumerate(PATTERNS)})
    assert spark.to_pyarrow(naive.order_by("i")).to_pylist() != found  # Java's own (?i) differs on these
    duck = duckdb.connect()
    expected = [{"i": i, **{f"p{j}": duck.execute("SELECT regexp_matches(?, ?)", [title, f"(?i){p}"]).fetchall()[0][0]
                            for j, p in enumerate(PATTERNS)}} for i, title in enumerate(TITLES)]  # type: ignore[index]
    assert [(TITLES[f["i"]], PATTERNS[int(k[1:])], f[k]) for f, e in zip(found, expected, strict=True)
            for k in f if f[k] != e[k]] == []
    assert expected[0]["p0"] and expected[12]["p6"]  # GESCHÄFTSFÜHRER and ΔΙΕΥΘΥΝΤΗΣ matched


def test_spark_without_pyspark_is_one_line_naming_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text("utf-8").replace('backend = "duckdb"', 'backend = "pyspark"')
                              .replace('master = "local[*]"', 'master = "local[1]"'), "utf-8")
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)  # as if pyspark were not installed
    result = run_cli("analyze", str(ws.root))
    assert result.returncode == 1 and result.stderr.strip().startswith("error: ") and "\n" not in result.stderr.strip()
    assert "engine.backend" in result.stderr and "pip install 'leadjourney[spark]'" in result.stderr
    # Spark builds the per-person tables of the export: asked first, before anything is written
    assert current_export(Workspace.open(ws.root)) is None and not any(p.name.startswith(".tables")
                                                                      for p in ws.root.iterdir())


def test_spark_exports_duckdb_tables_of_an_older_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Derived tables not built from the rows the workspace holds (an older version's, no fingerprint): Spark
    cannot know what they were built from, so the export carries DuckDB's, and Spark is not even started."""
    ws = _workspace(tmp_path / "ws")
    text = ws.config_path.read_text("utf-8")
    ws.config_path.write_text(text.replace('backend = "duckdb"', 'backend = "pyspark"'), "utf-8")
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)  # as if pyspark were not installed
    with ws.connect() as con:
        con.execute("DELETE FROM meta WHERE key = ?", [person_touches.FINGERPRINT_KEY])
    export = export_tables(Workspace.open(ws.root))
    assert export.derived_by == "duckdb" and export.built_for == "" and export.path("person_journeys").is_file()


@pytest.mark.spark
@_no_spark
def test_spark_builds_for_a_config_edited_since_the_ingest(shared_generated: Any, tmp_path: Path) -> None:
    """The silence edited since the last ingest: DuckDB's derived tables are stale (its analyses compute live),
    but Spark builds the export's for the config as it is, and analyses on Spark read them: the rows DuckDB's
    ingest builds for that config, the numbers DuckDB computes live. Edited again: the export is stale, and
    the next run on Spark builds again."""
    from leadjourney.analysis.report import analyze
    from leadjourney.backends import connect_backend
    from leadjourney.ingest.person_changes import config_digest
    from test_warehouse import _reads_stored

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120, web=True)
    ws = copy_workspace(shared, tmp_path / "ws")

    def silence(old: int, new: int) -> Workspace:
        text = ws.config_path.read_text("utf-8")
        assert f"dark_after_days = {old}" in text
        ws.config_path.write_text(text.replace(f"dark_after_days = {old}", f"dark_after_days = {new}"), "utf-8")
        return _on(ws, "pyspark")

    edited = silence(30, 9)
    export = export_tables(edited, engine=edited.config.engine)
    assert export.derived_by == "pyspark" and export.built_for == config_digest(edited.config)
    assert all(export.path(t).is_dir() for t in DERIVED)  # written by Spark
    with edited.connect(read_only=True) as con:
        import ibis

        assert _reads_stored(ibis.duckdb.from_connection(con), edited.config) == (True, False)
    with connect_backend(edited) as backend:
        assert _reads_stored(backend, edited.config) == (True, True)
    assert differences(analyze(_on(ws, "duckdb"), now=NOW).to_dict(), analyze(edited, now=NOW).to_dict()) == []

    rebuilt = copy_workspace(edited, tmp_path / "rebuilt")  # what DuckDB's ingest builds for this config
    assert run_cli("ingest", str(rebuilt.root)).returncode == 0
    with rebuilt.connect(read_only=True) as con:
        for table in (*DERIVED, "meta"):
            spark = pq.read_table(export.path(table))
            duck = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
            assert spark.column_names == duck.column_names, table
            assert _row_differences(_sorted_rows(duck), _sorted_rows(spark)) == [], table

    again = silence(9, 12)
    assert current_export(again) is None
    files = {t: export.path(t).stat() for t in ("leads", "touchpoints", "ingests", "meta")}
    with connect_backend(again) as backend:
        assert _reads_stored(backend, again.config) == (True, True)
    assert current_export(again) is not None and read_export(export.folder).built_for == config_digest(again.config)
    # the same rows: their files linked into the new export, not written again; meta written for the new config
    now = {t: export.path(t).stat() for t in files}
    assert [t for t in files if now[t].st_ino == files[t].st_ino] == ["leads", "touchpoints", "ingests"]


@pytest.fixture(scope="module")
def generated_with_baseline(tmp_path_factory: pytest.TempPathFactory, shared_generated: Any) -> Workspace:
    """The generated workspace with a stored baseline (what the monitor and the dashboard compare with)."""
    from leadjourney.workflows import analyze

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path_factory.mktemp("engines") / "ws")
    analyze(ws, save=True, baseline=True)
    return ws


def _jsonable(value: Any) -> Any:
    """A result (to_dict, a dataclass, a list or dict of them) as the JSON its renderers read, without
    what depends on the clock (``computed_at``; the data's age in days)."""
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, dict):
        value = {k: _jsonable(v) for k, v in value.items()}
    return _timeless(json.loads(json.dumps(value, default=str)))


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("metric") == "ingest_age_days":
            return {k: v for k, v in value.items() if k not in ("value", "reason")}
        return {k: _timeless(v) for k, v in value.items() if k != "computed_at"}
    return [_timeless(v) for v in value] if isinstance(value, list) else value


@pytest.mark.spark
@_no_spark
def test_map_and_its_tables_on_spark_equal_duckdb(generated_with_baseline: Workspace, tmp_path: Path) -> None:
    """Every number the journey map and its touchpoint, persona and path tables show."""
    from leadjourney.workflows.journey_map import journey_map as make_map

    def numbers(backend: str) -> dict[str, Any]:
        run = make_map(_on(generated_with_baseline, backend), formats=["mermaid"], out_dir=tmp_path / backend,
                       now=NOW, tables=True)
        return {name: _jsonable(getattr(run, name))
                for name in ("journey_map", "analysis", "inventory", "profiles", "paths", "suggestion")}

    duck = numbers("duckdb")
    assert duck["journey_map"]["n_people"] > 1000 and duck["paths"]
    assert differences(duck, numbers("pyspark")) == []


@pytest.mark.spark
@_no_spark
def test_monitor_on_spark_equals_duckdb(generated_with_baseline: Workspace) -> None:
    """The monitor's period figures and verdicts (the run's id and time left out: two runs are stored)."""
    from leadjourney.monitor import run_monitor

    def numbers(backend: str) -> dict[str, Any]:
        run = run_monitor(_on(generated_with_baseline, backend), "month", date(2026, 6, 30))
        return {"verdicts": _jsonable(run.verdicts), "metrics": _jsonable(run.metrics), "status": run.status}

    duck = numbers("duckdb")
    assert duck["metrics"] and duck["verdicts"]
    assert differences(duck, numbers("pyspark")) == []


@pytest.mark.spark
@_no_spark
def test_dashboard_selection_on_spark_equals_duckdb(generated_with_baseline: Workspace) -> None:
    """A dashboard selection: its analysis, trend, matched baseline, comparison and tiles; the owners list."""
    from leadjourney.analysis.journeys import Filters
    from leadjourney.dashboard import DashboardData

    def numbers(backend: str) -> dict[str, Any]:
        data = DashboardData(_on(generated_with_baseline, backend), disk=False)
        source = data.owners()[0].owners[0]
        view = data.view(Filters(owners=(source,)))
        return {"owners": _jsonable(data.owners()),
                **{name: _jsonable(getattr(view, name))
                   for name in ("analysis", "baseline", "trend", "comparison", "previous", "tiles")}}

    duck = numbers("duckdb")
    assert duck["analysis"]["n_people"] > 0 and duck["owners"]
    assert differences(duck, numbers("pyspark")) == []


@pytest.mark.spark
@_no_spark
def test_spark_reads_a_materialized_table_in_a_query_with_its_own_ctes(tmp_path: Path) -> None:
    """A table ``Journeys.materialize`` made is read, not computed again, by a query reusing a part of it
    (Ibis writes the part once, as a CTE): a cached view was matched by its plan, and Spark renumbers the
    view's own CTEs inside such a query, so it computed the view from the Parquet once for each reader."""
    from leadjourney.backends import connect_backend
    from leadjourney.engine import create_temp_table, drop_temp, fetch_rows

    ws = _on(_workspace(tmp_path / "ws"), "pyspark")
    export_tables(ws)
    with connect_backend(ws) as backend:
        leads = backend.table("leads")
        sources = leads.group_by("source").aggregate(n=leads.count())
        expr = leads.join(sources, "source").select("lead_id", "source", "n")  # leads twice: a CTE
        rdds = backend._session.sparkContext._jsc.getPersistentRDDs().size()
        t = create_temp_table(backend, "lj_tmp_test", expr)
        try:
            f = t.filter(t.n > 0)
            query = f.join(f.group_by("source").aggregate(k=f.count()), "source").select("lead_id", "k")
            sql = backend.compile(query)
            assert sql.startswith("WITH")
            plan = backend._session.sql(sql)._jdf.queryExecution().executedPlan().toString()
            assert "FileScan" not in plan and "Scan parquet" not in plan, plan
            assert sorted((r["lead_id"], r["k"]) for r in fetch_rows(query)) == [("L1", 2), ("L2", 1), ("L3", 2)]
        finally:
            drop_temp(backend, "lj_tmp_test", view=False)
        assert backend._session.sparkContext._jsc.getPersistentRDDs().size() == rdds  # released
