"""[engine] backend = "postgres": the workspace's tables loaded into a warehouse, the same numbers as DuckDB's.

A throwaway PostgreSQL server (initdb into a temporary folder, started on a free port of 127.0.0.1 with a
password, stopped at the end) stands in for a warehouse. Marked ``spark`` (``make test-spark``, the engines'
own CI step: .ci/run installs the server and psycopg when missing); skipped without them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import copy_workspace, csv_workspace, generated_sources, run_cli
from leadjourney.config import EngineSettings
from leadjourney.workspace import Workspace
from test_engines import EVENTS, LEADS, TOUCHES, _jsonable, differences

NOW = datetime(2026, 6, 30)
URL_ENV = "LEADJOURNEY_WAREHOUSE_URL"
PASSWORD = "s3cret-Pg/pass+word"  # characters that URL-encode differently, to see that no form leaks


def _postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl (on the PATH, or Debian's /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(_postgres_bin() is None or importlib.util.find_spec("psycopg") is None,
                       reason="needs PostgreSQL's server (apt-get install postgresql) and psycopg "
                              "(pip install 'leadjourney[postgres]'); .ci/run installs them"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 for this module: its URL (user ``leadjourney``, a password)."""
    bin_dir = _postgres_bin()
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="lj-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: as the postgres user the package creates
        os.chmod(folder, 0o755)
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    (folder / "pw").write_text(PASSWORD, "utf-8")
    if run_as:
        shutil.chown(folder / "pw", "postgres")
    port = _free_port()
    data = folder / "data"
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "leadjourney", "-E", "UTF8",
                    "--no-locale", "-N", "--auth=scram-sha-256", f"--pwfile={folder / 'pw'}"],
                   check=True, capture_output=True)
    options = f"-p {port} -h 127.0.0.1 -k {folder} -c fsync=off -c full_page_writes=off"
    subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://leadjourney:{PASSWORD.replace('/', '%2F').replace('+', '%2B')}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _on(ws: Workspace, backend: str, schema: str = "leadjourney") -> Workspace:
    ws = Workspace.open(ws.root)
    ws.config = dataclasses.replace(ws.config, engine=EngineSettings(backend=backend, schema=schema))
    return ws


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(sql).fetchall()


def test_analyze_on_postgres_equals_duckdb(postgres: str, shared_generated: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from leadjourney.analysis.report import analyze

    monkeypatch.setenv(URL_ENV, postgres)
    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path / "ws")
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    warehouse = analyze(_on(ws, "postgres", "generated"), now=NOW).to_dict()
    assert duck["n_people"] > 1000 and duck["time_in_stage"]["transitions"]
    assert differences(duck, warehouse) == []
    with ws.connect(read_only=True) as con:
        leads = con.execute("SELECT count(*) FROM leads").fetchone()
    assert _rows(postgres, "SELECT count(*) FROM generated.leads") == [leads]


def test_map_and_monitor_on_postgres_equal_duckdb(postgres: str, shared_generated: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from leadjourney.monitor import run_monitor
    from leadjourney.workflows import analyze
    from leadjourney.workflows.journey_map import journey_map as make_map

    monkeypatch.setenv(URL_ENV, postgres)
    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path / "ws")
    analyze(ws, save=True, baseline=True)

    def numbers(backend: str) -> dict[str, Any]:
        on = _on(ws, backend, "outputs")
        run = make_map(on, formats=["mermaid"], out_dir=tmp_path / backend, now=NOW, tables=True)
        monitor = run_monitor(on, "month", date(2026, 6, 30))
        return {"map": _jsonable(run.journey_map), "profiles": _jsonable(run.profiles), "paths": _jsonable(run.paths),
                "suggestion": _jsonable(run.suggestion), "verdicts": _jsonable(monitor.verdicts),
                "metrics": _jsonable(monitor.metrics)}

    duck = numbers("duckdb")
    assert duck["map"]["n_people"] > 1000 and duck["verdicts"]
    assert differences(duck, numbers("postgres")) == []


def test_load_once_per_workspace_state_and_all_or_nothing(postgres: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded when the workspace changed, kept otherwise; a load interrupted leaves the previous copy."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.table_export import export_tables

    ws = csv_workspace(tmp_path / "ws", leads=LEADS, stage_events=EVENTS, touchpoints=TOUCHES)
    with psycopg.connect(postgres, autocommit=True) as con:
        first = export_tables(ws)
        assert warehouse.load_tables(con, first, "small") is True
        assert warehouse.load_tables(con, first, "small") is False  # the same state: nothing loaded
        assert warehouse.loaded_fingerprint(con, "small") == first.fingerprint
    assert _rows(postgres, "SELECT lead_id, created_at, employee_count FROM small.leads ORDER BY lead_id")[0] == (
        "L1", datetime(2026, 5, 1, 9, 0, 0, 250000), 12)  # sub-second times and integers kept

    # a copy made before text was COLLATE "C" (no layout in its manifest) is loaded again, the same state or not
    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute("ALTER TABLE small.leadjourney_manifest DROP COLUMN layout")
        con.execute('ALTER TABLE small.leads ALTER COLUMN lead_id TYPE TEXT COLLATE "default"')
        assert warehouse.load_tables(con, first, "small") is True
        assert warehouse.load_tables(con, first, "small") is False
    assert _rows(postgres, "SELECT collation_name FROM information_schema.columns WHERE table_schema = 'small' "
                           "AND table_name = 'leads' AND column_name = 'lead_id'") == [("C",)]

    (ws.root / "stage_events.csv").write_text(EVENTS + "L2,SQL,2026-05-06 10:00:00\n", "utf-8")
    run_cli("ingest", str(ws.root))
    changed = export_tables(ws)
    original = warehouse._load_table

    def interrupted(con: Any, schema: str, table: str, export: Any) -> None:
        if table == "touchpoints":
            raise KeyboardInterrupt
        original(con, schema, table, export)

    monkeypatch.setattr(warehouse, "_load_table", interrupted)
    with psycopg.connect(postgres, autocommit=True) as con, pytest.raises(KeyboardInterrupt):
        warehouse.load_tables(con, changed, "small")
    assert _rows(postgres, "SELECT count(*) FROM small.stage_events") == [(first.tables["stage_events"],)]
    assert _rows(postgres, "SELECT fingerprint FROM small.leadjourney_manifest") == [(first.fingerprint,)]
    monkeypatch.setattr(warehouse, "_load_table", original)
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, changed, "small") is True
    assert _rows(postgres, "SELECT count(*) FROM small.stage_events") == [(changed.tables["stage_events"],)]


def test_cli_engine_postgres_keeps_the_url_secret(postgres: str, tmp_path: Path) -> None:
    """``--engine postgres``: the URL only from the environment; never printed, never written, even in errors."""
    ws = csv_workspace(tmp_path / "ws", leads=LEADS, stage_events=EVENTS, touchpoints=TOUCHES)
    unset = run_cli("analyze", str(ws.root), "--engine", "postgres", env={URL_ENV: None})
    assert unset.returncode == 1 and unset.stderr.strip() == (
        f"error: engine.url_env names the environment variable {URL_ENV}, which is not set")

    ok = run_cli("analyze", str(ws.root), "--engine", "postgres", "--json", env={URL_ENV: postgres})
    assert ok.returncode == 0, ok.stderr
    assert '"n_people": 3' in ok.stdout

    wrong = postgres.replace(PASSWORD.replace("/", "%2F").replace("+", "%2B"), "wrong-" + "x" * 12)
    bad = run_cli("analyze", str(ws.root), "--engine", "postgres", env={URL_ENV: wrong})
    assert bad.returncode == 1 and "\n" not in bad.stderr.strip()
    assert bad.stderr.strip().startswith(f"error: engine.url_env: cannot connect to the warehouse in {URL_ENV}: ")
    assert "password authentication failed" in bad.stderr
    for result in (ok, bad):
        for text in (result.stdout, result.stderr):
            assert PASSWORD not in text and "wrong-xxxx" not in text and "%2F" not in text
    for path in ws.root.rglob("*"):
        if path.is_file() and path.suffix in {".toml", ".json", ".md"}:
            assert PASSWORD not in path.read_text("utf-8", errors="replace")


def _table_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=lambda row: [(v is not None, v) for v in row])


def _postgres_differences(url: str, ws: Workspace, schema: str, tables: tuple[str, ...],
                          least: int = 1000) -> dict[str, list[str]]:
    """Per table of ``tables`` in ``schema``, where it differs from DuckDB's (columns, rows; floats beyond 1e-9);
    each must have more than ``least`` rows."""
    import psycopg

    from test_engines import _row_differences

    found: dict[str, list[str]] = {}
    with ws.connect(read_only=True) as duck, psycopg.connect(url) as con:
        for table in tables:
            ours = duck.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in ours.description]
            theirs = con.execute(f'SELECT * FROM "{schema}"."{table}"')
            theirs_names = [d.name for d in theirs.description or ()]
            expected, got = _table_rows(ours.fetchall()), _table_rows(theirs.fetchall())
            assert len(expected) > least, table
            found[table] = [f"columns {theirs_names} vs {names}"] if theirs_names != names else []
            found[table] += _row_differences(expected, got)
    return found


def _postgres_equals_duckdb(url: str, ws: Workspace, schema: str, least: int = 1000) -> None:
    """Every per-person table in ``schema``: the columns and rows DuckDB's ingest built (floats to 1e-9); each
    more than ``least`` rows."""
    from leadjourney.table_export import PER_PERSON

    assert _postgres_differences(url, ws, schema, PER_PERSON, least) == {t: [] for t in PER_PERSON}


def test_postgres_builds_the_per_person_tables_as_duckdb_does(postgres: str, shared_generated: Any,
                                                              tmp_path: Path) -> None:
    """person_touches, person_journeys (engagement columns included) and person_engagement built in Postgres
    from the loaded canonical tables: DuckDB's rows, value for value; the export leaves them out."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.table_export import PER_PERSON, export_tables

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = _on(copy_workspace(shared, tmp_path / "ws"), "postgres", "built")
    export = export_tables(ws, engine=ws.config.engine)
    assert export.derived_by == "postgres" and set(PER_PERSON) <= set(export.tables)
    assert not any(export.path(t).exists() for t in PER_PERSON) and export.path("leads").is_file()
    with psycopg.connect(postgres, autocommit=True) as con:
        with pytest.raises(ValueError, match="pass the config"):
            warehouse.load_tables(con, export, "built")
        assert warehouse.load_tables(con, export, "built", ws.config) is True
        assert warehouse.loaded_state(con, "built") == (export.fingerprint, "postgres")
        assert warehouse.load_tables(con, export, "built", ws.config) is False
    _postgres_equals_duckdb(postgres, ws, "built")
    assert _rows(postgres, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%staged%'") == [(0,)]


def test_postgres_builds_for_the_configured_options(postgres: str, shared_generated: Any, tmp_path: Path) -> None:
    """Another silence (``dark_after_days``) and another signal stage, ingested: Postgres builds with them too."""
    from leadjourney.table_export import export_tables

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path / "ws")
    with ws.connect(read_only=True) as con:
        before = con.execute("SELECT count(re_at), count(first_human_after_stage_at) FROM person_engagement").fetchone()
    text = ws.config_path.read_text("utf-8")
    assert "dark_after_days = 30" in text
    ws.config_path.write_text(text.replace("dark_after_days = 30", "dark_after_days = 9"), "utf-8")
    assert run_cli("ingest", str(ws.root)).returncode == 0
    ws = _on(ws, "postgres", "options")
    with ws.connect(read_only=True) as con:
        after = con.execute("SELECT count(re_at), count(first_human_after_stage_at) FROM person_engagement").fetchone()
    assert after is not None and before is not None and after[0] > before[0]  # the option changes the rows
    import psycopg

    from leadjourney import warehouse

    export = export_tables(ws, engine=ws.config.engine)
    assert export.derived_by == "postgres"
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, export, "options", ws.config) is True
    _postgres_equals_duckdb(postgres, ws, "options")


def _reads_stored(backend: Any, config: Any) -> tuple[bool, bool]:
    """Whether an analysis on ``backend`` with ``config`` reads the stored person_journeys and the engagement
    columns in it (else it computes them live)."""
    from leadjourney.analysis.journeys import Journeys

    journeys = Journeys(backend, config)
    try:
        return journeys._person_journeys()[1], journeys.engagement_in_people(NOW, config.dark_after_days)
    finally:
        journeys.release()


def _set_silence(ws: Workspace, old: int, new: int) -> Workspace:
    text = ws.config_path.read_text("utf-8")
    assert f"dark_after_days = {old}" in text
    ws.config_path.write_text(text.replace(f"dark_after_days = {old}", f"dark_after_days = {new}"), "utf-8")
    return _on(ws, "postgres", "edited")


def test_postgres_builds_for_a_config_edited_since_the_ingest(postgres: str, shared_generated: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The silence edited since the last ingest: DuckDB's derived tables are stale (its analyses compute live),
    but Postgres builds its own for the config as it is, and its analyses read them: the rows DuckDB's ingest
    builds for that config, and the numbers DuckDB computes live. Edited again: the copy is stale (analyses
    over it compute live) until the next run loads and builds again."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.analysis.report import analyze
    from leadjourney.ingest.person_changes import config_digest, derived_tables_current
    from leadjourney.table_export import DERIVED, export_tables

    monkeypatch.setenv(URL_ENV, postgres)
    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120, web=True)
    ws = _set_silence(copy_workspace(shared, tmp_path / "ws"), 30, 9)
    with ws.connect(read_only=True) as con:
        assert not derived_tables_current(con, ws.config)
        duck_meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    export = export_tables(ws, engine=ws.config.engine)
    assert export.derived_by == "postgres" and export.built_for == config_digest(ws.config)
    assert not any(export.path(t).exists() for t in DERIVED)  # built by Postgres, not copied
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, export, "edited", ws.config) is True
        assert warehouse.loaded_for(con, "edited") == config_digest(ws.config)
    with ws.connect(read_only=True) as con:
        assert _reads_stored(ibis_duckdb(con), ws.config) == (True, False)  # DuckDB's: engagement live
    with warehouse.connect_postgres(ws, ws.config.engine) as backend:
        assert _reads_stored(backend, ws.config) == (True, True)  # Postgres's: read, not live
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    assert differences(duck, analyze(ws, now=NOW).to_dict()) == []

    # what DuckDB's ingest builds for this config: the same rows, and the same meta rows describing them
    rebuilt = copy_workspace(ws, tmp_path / "rebuilt")
    assert run_cli("ingest", str(rebuilt.root)).returncode == 0
    assert _postgres_differences(postgres, rebuilt, "edited", DERIVED, least=500) == {t: [] for t in DERIVED}
    with rebuilt.connect(read_only=True) as con:
        assert derived_tables_current(con, ws.config)
        expected = dict(con.execute("SELECT key, value FROM meta").fetchall())
    loaded = dict(_rows(postgres, "SELECT key, value FROM edited.meta"))
    changed = {k for k in expected if expected[k] != duck_meta.get(k)}
    assert {"person_engagement_parameters", "person_tables_config"} <= changed and loaded == expected

    # edited again: the loaded copy no longer serves (live), and the next run builds again, from the rows it
    # holds (the same workspace state: only meta is loaded anew, the canonical tables stay as they are)
    ws = _set_silence(ws, 9, 12)
    tables = ("leads", "touchpoints", "ingests", "meta", "person_journeys")
    oids = "SELECT " + ", ".join(f"'edited.{t}'::regclass::oid" for t in tables)
    before = _rows(postgres, oids)[0]
    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute('SET search_path TO "edited"')
        assert _reads_stored(warehouse.postgres_backend(con), ws.config) == (True, False)
    with warehouse.connect_postgres(ws, ws.config.engine) as backend:
        assert _reads_stored(backend, ws.config) == (True, True)
    assert _rows(postgres, "SELECT built_for FROM edited.leadjourney_manifest") == [(config_digest(ws.config),)]
    kept = [t for t, old, new in zip(tables, before, _rows(postgres, oids)[0], strict=True) if old == new]
    assert kept == ["leads", "touchpoints", "ingests"]
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    assert differences(duck, analyze(ws, now=NOW).to_dict()) == []


def ibis_duckdb(con: Any) -> Any:
    import ibis

    return ibis.duckdb.from_connection(con)


def test_postgres_copies_the_tables_of_an_older_workspace(postgres: str, shared_generated: Any,
                                                          tmp_path: Path) -> None:
    """Derived tables not built from the rows the workspace holds (an older version's, no fingerprints): Postgres
    copies DuckDB's (analyses decide what they serve, as on DuckDB); a copy built by the other engine is loaded
    again."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.table_export import PER_PERSON, export_tables

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = _on(copy_workspace(shared, tmp_path / "ws"), "postgres", "copied")
    built = export_tables(ws, engine=ws.config.engine)
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, built, "copied", ws.config) is True
    with ws.connect() as con:
        con.execute("DELETE FROM meta WHERE key = 'person_touches_fingerprint'")
    copied = export_tables(ws, engine=ws.config.engine)
    assert copied.derived_by == "duckdb" and copied.built_for == ""
    assert all(copied.path(t).is_file() for t in PER_PERSON)
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, copied, "copied", ws.config) is True
        assert warehouse.loaded_state(con, "copied") == (copied.fingerprint, "duckdb")
    _postgres_equals_duckdb(postgres, ws, "copied")


def test_a_build_interrupted_leaves_the_previous_copy(postgres: str, shared_generated: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while Postgres builds the per-person tables: the previous copy (tables and manifest) stays."""
    import psycopg

    from leadjourney import table_export, warehouse

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120)
    ws = _on(copy_workspace(shared, tmp_path / "ws"), "postgres", "interrupted")
    copied = table_export.export_tables(ws, engine=EngineSettings(backend="duckdb"))  # DuckDB's tables copied
    with psycopg.connect(postgres, autocommit=True) as con:
        assert warehouse.load_tables(con, copied, "interrupted") is True
    built = table_export.export_tables(ws, engine=ws.config.engine)
    original = table_export.build_derived

    def interrupted(backend: Any, config: Any, write: Any, tables: Any) -> dict[str, int]:
        def write_once(expr: Any, table: str) -> Any:
            if table != "person_touches":
                raise KeyboardInterrupt
            return write(expr, table)
        return original(backend, config, write_once, tables)

    monkeypatch.setattr(table_export, "build_derived", interrupted)
    with psycopg.connect(postgres, autocommit=True) as con, pytest.raises(KeyboardInterrupt):
        warehouse.load_tables(con, built, "interrupted", ws.config)
    assert _rows(postgres, "SELECT fingerprint, derived_by FROM interrupted.leadjourney_manifest") == [
        (copied.fingerprint, "duckdb")]
    _postgres_equals_duckdb(postgres, ws, "interrupted")


def test_export_tables_command_names_what_postgres_builds(tmp_path: Path) -> None:
    """`export-tables` with ``backend = "postgres"``: the per-person tables are not written, and it says so."""
    ws = csv_workspace(tmp_path / "ws", leads=LEADS, stage_events=EVENTS, touchpoints=TOUCHES)
    ws.config_path.write_text(ws.config_path.read_text("utf-8").replace('backend = "duckdb"', 'backend = "postgres"'),
                              "utf-8")
    result = run_cli("export-tables", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert "person_touches: 2 rows (left to postgres, which builds it when it loads them)" in result.stdout
    assert "leads: 3 rows\n" in result.stdout and not (ws.root / "tables" / "person_touches.parquet").exists()


_MIXED = "aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ"


def _salesforce_id(lead_id: str) -> str:
    """A generated id (``L0000123``) as a mixed-case Salesforce-style one (``00Q5e...``): byte order (upper case
    first) and a linguistic collation (case ignored but last, lower first) number such ids differently."""
    n, digits = int(lead_id[1:]), ""
    for _ in range(4):
        n, digit = divmod(n, len(_MIXED))
        digits = _MIXED[digit] + digits
    return f"00Q5e{digits}"


def _mixed_case_workspace(root: Path) -> Workspace:
    """Generated data with Salesforce-style ids, and every fourth touch of a kind with an underscore doubled at
    the same instant by one of a kind with a digit there (``email_send`` and ``email3``; ingest makes kinds lower
    case, ``[a-z0-9_]``): bytes put the digit first, a linguistic collation the underscore."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from leadjourney.generate import generate
    from leadjourney.ingest import ingest

    ws = Workspace.init(root)
    data = generate(root / "data", n_leads=400, seed=7, end=date(2026, 6, 30), days=120)
    for table in ("leads", "stage_events", "touchpoints", "opportunities"):
        rows = pq.read_table(data.files[table])
        ids = pa.array([_salesforce_id(v) for v in rows["lead_id"].to_pylist()], pa.string())
        rows = rows.set_column(rows.schema.get_field_index("lead_id"), "lead_id", ids)
        if table == "touchpoints":
            doubled = rows.filter(pc.and_(pc.equal(pc.bit_wise_and(pa.array(range(rows.num_rows)), 3), 0),
                                          pc.match_substring(rows["kind"], "_")))
            kinds = [f"{k.split('_')[0]}{i % 10}" for i, k in enumerate(doubled["kind"].to_pylist())]
            doubled = doubled.set_column(doubled.schema.get_field_index("kind"), "kind", pa.array(kinds, pa.string()))
            rows = pa.concat_tables([rows, doubled])
        pq.write_table(rows, data.files[table])
    ws.set_sources(generated_sources(data, root))
    ingest(ws)
    return Workspace.open(root)


@pytest.fixture(scope="module")
def icu_database(postgres: str) -> str:
    """A database of the test server whose default collation is ICU's ``en-US`` (the machine may have no libc
    locale but C): the URL of it."""
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute("CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
    return postgres.rsplit("/", 1)[0] + "/icu"


def test_orders_are_duckdbs_on_a_database_with_another_collation(icu_database: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Text columns are created ``COLLATE "C"`` (copied and built ones): on an ICU database, mixed-case ids are
    numbered (``person_key``) and same-instant touches ordered by kind (``gap_seconds``) as on DuckDB, and an
    analysis gives DuckDB's numbers."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.analysis.report import analyze
    from leadjourney.table_export import export_tables

    # the database orders text otherwise than bytes: lower case first, "_" before digits
    assert _rows(icu_database, "SELECT array_agg(v ORDER BY v) FROM (VALUES ('B'), ('a'), ('e3'), ('e_x')) t(v)") == [
        (["a", "B", "e_x", "e3"],)]
    ws = _on(_mixed_case_workspace(tmp_path / "ws"), "postgres", "mixed")
    with ws.connect(read_only=True) as duck:
        same_instant = duck.execute("SELECT count(*) FROM (SELECT person_key, occurred_at FROM person_touches "
                                    "GROUP BY ALL HAVING bool_or(contains(kind, '_')) AND bool_or(regexp_matches(kind, '[0-9]$'))"
                                    ")").fetchone()
        ids = duck.execute("SELECT count(*) FILTER (WHERE person_id <> lower(person_id)) FROM person_journeys").fetchone()
    assert same_instant is not None and same_instant[0] > 100 and ids is not None and ids[0] > 100

    built = export_tables(ws, engine=ws.config.engine)
    copied = export_tables(ws, engine=EngineSettings(backend="duckdb"))
    assert built.derived_by == "postgres" and copied.derived_by == "duckdb"
    with psycopg.connect(icu_database, autocommit=True) as con:
        assert warehouse.load_tables(con, copied, "copied") is True
        assert warehouse.load_tables(con, built, "mixed", ws.config) is True
    _postgres_equals_duckdb(icu_database, ws, "mixed", least=300)
    assert _rows(icu_database, "SELECT count(*) FILTER (WHERE collation_name IS DISTINCT FROM 'C'), count(*) "
                               "FROM information_schema.columns WHERE table_schema IN ('mixed', 'copied') "
                               "AND data_type IN ('text', 'character varying')")[0][0] == 0
    with ws.connect(read_only=True) as duck:
        ordered = duck.execute("SELECT lead_id FROM leads ORDER BY lead_id").fetchall()
    assert _rows(icu_database, "SELECT lead_id FROM copied.leads ORDER BY lead_id") == ordered

    monkeypatch.setenv(URL_ENV, icu_database)
    duck_report = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    assert differences(duck_report, analyze(ws, now=NOW).to_dict()) == []


def _built_in_postgres(url: str, ws: Workspace, schema: str) -> Any:
    """``ws`` exported for Postgres and loaded into ``schema`` (Postgres builds the derived tables): the export."""
    import psycopg

    from leadjourney import warehouse
    from leadjourney.table_export import DERIVED, export_tables

    ws = _on(ws, "postgres", schema)
    export = export_tables(ws, engine=ws.config.engine)
    assert export.derived_by == "postgres" and not any(export.path(t).exists() for t in DERIVED)
    with psycopg.connect(url, autocommit=True) as con:
        assert warehouse.load_tables(con, export, schema, ws.config) is True
    return export


def test_postgres_builds_the_web_tables_as_duckdb_does(postgres: str, shared_generated: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """web_stitches and web_visits built in Postgres from the generated GA4 export: DuckDB's rows, value for value
    (the per-person tables too); the web journey and every other analysis give DuckDB's numbers there."""
    from leadjourney.analysis.report import analyze
    from leadjourney.ingest import web_visits
    from leadjourney.table_export import DERIVED

    shared, _ = shared_generated(n_leads=1500, seed=11, end=date(2026, 6, 30), days=120, web=True)
    ws = copy_workspace(shared, tmp_path / "ws")
    export = _built_in_postgres(postgres, ws, "web")
    assert export.tables[web_visits.VISITS] > 2000 and export.tables[web_visits.STITCHES] > 500
    assert _postgres_differences(postgres, ws, "web", DERIVED, least=500) == {t: [] for t in DERIVED}

    monkeypatch.setenv(URL_ENV, postgres)
    duck = analyze(_on(ws, "duckdb"), now=NOW).to_dict()
    assert duck["web_journey"]["landing_pages"]["rows"] and duck["web_journey"]["duration"]["visits"] > 2000
    assert differences(duck, analyze(_on(ws, "postgres", "web"), now=NOW).to_dict()) == []


def test_postgres_cuts_and_parses_web_visits_as_duckdb_does(postgres: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A clickstream without session ids (visits cut at the 30-minute gap: 29:59, 30:00, 30:00.000001) and pages
    of odd shapes (line breaks, a carriage return, U+2028, a port, no scheme, upper-case utm tags, a bare host):
    Postgres's web tables equal DuckDB's; a regular expression read otherwise (one perturbed) is seen."""
    from leadjourney.ingest import urls, web_visits
    from test_web_tables import _clickstream_ws

    ws = _clickstream_ws(tmp_path / "ws", gapped=True)
    web = (web_visits.STITCHES, web_visits.VISITS)
    _built_in_postgres(postgres, ws, "clicks")
    assert _postgres_differences(postgres, ws, "clicks", web, least=20) == {t: [] for t in web}
    odd = _rows(postgres, "SELECT landing_page, source, medium FROM clicks.web_visits WHERE visitor_id = 'dvid-odd' "
                          "ORDER BY started_at")
    assert odd[0] == ("/blog/a", "News", "mail") and odd[7][0] == "/a\rb\u2028c" and odd[2][0] == "/"

    monkeypatch.setattr(urls, "case_insensitive", lambda name: name)  # utm_* names in lower case only (utm_SOURCE missed)
    _built_in_postgres(postgres, ws, "perturbed")
    found = _postgres_differences(postgres, ws, "perturbed", web, least=20)
    assert found[web_visits.STITCHES] == [] and found[web_visits.VISITS] != []


@pytest.mark.parametrize("lower_in", ["a Unicode collation", "no such collation"])
def test_url_expressions_on_postgres_equal_duckdbs(postgres: str, lower_in: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The path, host and utm_* tags of many URL shapes (and random ones): Postgres reads the regular
    expressions as DuckDB's RE2 does (case-insensitive tags, line ends, a long s), and lowers a host as DuckDB,
    also on a server without a collation that lowers beyond ASCII (Postgres < 17 without C.UTF-8)."""
    import ibis
    import psycopg

    from leadjourney import warehouse
    from leadjourney.ingest.urls import url_host, url_path, url_utm
    from test_web_tables import SHAPES, _random_urls

    if lower_in == "no such collation":
        monkeypatch.setattr(warehouse, "UNICODE_LOWER", ())
    urls = [*SHAPES, "https://MÜNCHEN.de/x?UTM_Source=Ä", "https://ΟΔΟΣ.gr/", "https://İSTANBUL.com.tr/",
            "http://\u212aELVIN.example/", "https://ÉCOLE.fr/", *_random_urls(3000)]
    rows = list(enumerate(urls))

    def parsed(backend: Any, table: Any) -> list[tuple[Any, ...]]:
        u = backend.table(table) if isinstance(table, str) else table
        expr = u.select("i", path=url_path(u.url), host=url_host(u.url),
                        **{tag: url_utm(u.url, tag) for tag in ("source", "medium", "campaign")}).order_by("i")
        return [tuple(r.values()) for r in expr.to_pyarrow().to_pylist()]

    duck = ibis.duckdb.connect()
    duck.raw_sql("CREATE TABLE u (i INTEGER, url VARCHAR)")
    duck.con.executemany("INSERT INTO u VALUES (?, ?)", rows)
    expected = parsed(duck, "u")
    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute('CREATE TEMP TABLE u (i INTEGER, url TEXT COLLATE "C")')
        with con.cursor().copy("COPY u FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        found = parsed(warehouse.postgres_backend(con), "u")
    assert [(urls[a[0]], a, b) for a, b in zip(found, expected, strict=True) if a != b] == []
    assert {"/", "/pricing", None} <= {r[1] for r in expected} and "Q" in {r[3] for r in expected}


@pytest.mark.parametrize("database", ["postgres", "icu_database"])
def test_postgres_tells_events_at_the_same_instant_as_duckdb_does(database: str, tmp_path: Path,
                                                                  request: pytest.FixtureRequest) -> None:
    """The visit whose first and last instants are tied (tests/test_web_tables.py): Postgres lands on the smallest
    page and exits on the largest as DuckDB does, also in a database whose default collation is ICU's (the
    min/max run over text computed from the times and the C-collated columns)."""
    from leadjourney.ingest import web_visits
    from test_web_tables import TIED, _tied_ws

    url = request.getfixturevalue(database)
    ws = _tied_ws(tmp_path / "ws")
    with ws.connect(read_only=True) as con:
        assert con.execute(TIED).fetchall() == [("/alpha", "/omega", "aa-news", 6)]
    _built_in_postgres(url, ws, "tied")
    web = (web_visits.STITCHES, web_visits.VISITS)
    assert _postgres_differences(url, ws, "tied", web, least=20) == {t: [] for t in web}
    assert _rows(url, TIED.replace("FROM web_visits", "FROM tied.web_visits")) == [("/alpha", "/omega", "aa-news", 6)]


def test_postgres_matches_case_insensitive_patterns_as_duckdb_does(postgres: str) -> None:
    """Persona job-title rules and ``matches`` criteria on titles with accents, Greek, the long s, in a "C" column:
    Postgres matches as DuckDB's RE2 does (its ``(?i)`` folds a "C" column's ASCII letters only)."""
    import duckdb
    import psycopg

    from leadjourney import warehouse
    from leadjourney.casefold import case_insensitive
    from test_casefold import PATTERNS, TITLES

    with psycopg.connect(postgres, autocommit=True) as con:
        con.execute('CREATE TEMP TABLE titles (i INTEGER, title TEXT COLLATE "C")')
        with con.cursor().copy("COPY titles FROM STDIN") as copy:
            for row in enumerate(TITLES):
                copy.write_row(row)
        t = warehouse.postgres_backend(con).table("titles")
        expr = t.select("i", **{f"p{j}": t.title.re_search(case_insensitive(p)) for j, p in enumerate(PATTERNS)})
        found = expr.order_by("i").to_pyarrow().to_pylist()
        naive = t.select("i", **{f"p{j}": t.title.re_search(f"(?i){p}") for j, p in enumerate(PATTERNS)})
        assert naive.order_by("i").to_pyarrow().to_pylist() != found  # its own (?i) differs on these
    duck = duckdb.connect()
    expected = [{"i": i, **{f"p{j}": duck.execute("SELECT regexp_matches(?, ?)", [title, f"(?i){p}"]).fetchall()[0][0]
                            for j, p in enumerate(PATTERNS)}} for i, title in enumerate(TITLES)]  # type: ignore[index]
    assert [(TITLES[f["i"]], f, e) for f, e in zip(found, expected, strict=True) if f != e] == []
