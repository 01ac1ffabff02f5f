"""The workspace's database connections: kept open for a command, DuckDB's threads from the environment."""

from __future__ import annotations

import duckdb
import pytest

from leadjourney.errors import OptionError
from leadjourney.workspace import Workspace, databases_kept_open


def _attached(ws: Workspace) -> set[str]:
    with ws.connect() as con:
        return {str(r[0]) for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}


@pytest.mark.databases_closed
def test_inside_the_block_connections_share_one_open_database_and_it_is_let_go_at_the_end(ws: Workspace) -> None:
    with databases_kept_open():
        with ws.connect() as con:
            con.execute("ATTACH ':memory:' AS scratch")  # held by the database instance, not the connection
        assert "scratch" in _attached(ws)
        with ws.connect(read_only=True) as con:
            assert con.execute("SELECT count(*) FROM leads").fetchone() == (0,)
    assert "scratch" not in _attached(ws)  # opened anew
    duckdb.connect(str(ws.database_path)).close()  # let go: another process (or this one) may open it


@pytest.mark.databases_closed
def test_a_write_after_a_read_reopens_for_writing(ws: Workspace) -> None:
    with databases_kept_open():
        with ws.connect(read_only=True) as con, pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE t (x INT)")
        with ws.connect() as con:
            con.execute("CREATE TABLE t (x INT)")
            con.execute("INSERT INTO t VALUES (1)")
        with ws.connect(read_only=True) as con:  # the database open for writing serves a read too
            assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


@pytest.mark.databases_closed
def test_outside_the_block_or_switched_off_each_connect_opens_the_file(ws: Workspace) -> None:
    with databases_kept_open(), databases_kept_open(False):
        with ws.connect() as con:
            con.execute("ATTACH ':memory:' AS scratch")
        assert "scratch" not in _attached(ws)


@pytest.mark.databases_closed
def test_switched_off_inside_a_block_lets_go_of_what_the_block_held(ws: Workspace) -> None:
    """A command that starts a server: the database its first steps opened is not held while it serves."""
    with databases_kept_open():
        with ws.connect() as con:
            con.execute("ATTACH ':memory:' AS scratch")
        with databases_kept_open(False):
            assert "scratch" not in _attached(ws)  # the instance the block held is gone: opened anew
            with ws.connect(read_only=True) as con:  # a read-only open is refused while a writer instance lives
                assert con.execute("SELECT count(*) FROM leads").fetchone() == (0,)
        with ws.connect() as con:  # after it, the block keeps a database open again
            con.execute("ATTACH ':memory:' AS again")
        assert "again" in _attached(ws)


def test_duckdb_threads_come_from_the_environment(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADJOURNEY_THREADS", "1")
    with ws.connect() as con:
        assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    monkeypatch.setenv("LEADJOURNEY_THREADS", "two")
    with pytest.raises(OptionError, match="LEADJOURNEY_THREADS='two'"):
        ws.connect()


def test_duckdb_memory_is_capped_unless_the_environment_says(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 18: a share of physical memory let analyze at 10M leads grow to 14.7 GB; capped, DuckDB spills instead
    from leadjourney.workspace import MEMORY_CAP_MB, MEMORY_ENV

    def limit_mb() -> float:
        with ws.connect() as con:
            value, unit = str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0]).split()  # type: ignore[index]
        return float(value) * {"MiB": 1, "GiB": 1024}[unit]

    monkeypatch.delenv(MEMORY_ENV, raising=False)
    assert 256 <= limit_mb() <= MEMORY_CAP_MB
    monkeypatch.setenv(MEMORY_ENV, "768")
    assert limit_mb() == pytest.approx(768e6 / 2**20, abs=0.1)  # DuckDB reads MB as 10**6 bytes, shows MiB
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(OptionError, match="LEADJOURNEY_MEMORY_MB='lots'"):
        ws.connect()


@pytest.mark.databases_closed
def test_a_thread_outside_the_block_connects_to_the_database_the_block_keeps_open(ws: Workspace) -> None:
    """A server thread started by a test (threads start outside any block): DuckDB refuses a second instance."""
    import threading

    seen: list[object] = []

    def read() -> None:
        try:
            with ws.connect(read_only=True) as con:
                seen.append(con.execute("SELECT count(*) FROM t").fetchone())
        except Exception as exc:  # reported by the assertion
            seen.append(exc)

    with databases_kept_open():
        with ws.connect() as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    assert seen == [(1,)]
