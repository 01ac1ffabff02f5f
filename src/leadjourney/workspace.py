"""An engagement workspace: a folder with leadjourney.toml, a DuckDB file and out/.

>>> ws = Workspace.init(tmp_path / "acme")            # doctest: +SKIP
>>> with ws.connect() as con:                         # doctest: +SKIP
...     con.sql("select count(*) from leads").fetchall()
[(0,)]
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadjourney import schema
from leadjourney.db import one
from leadjourney.errors import OptionError, WorkspaceError
from leadjourney.interrupts import ctrl_c_held
from leadjourney.schema import CONFIG_FILE

if TYPE_CHECKING:  # DuckDB, tomlkit and the config parser load when a workspace opens: `--help` stays quick
    import duckdb

    from leadjourney.config import Config

SALT_KEY = "email_salt"  # meta: the workspace's random secret (salts e-mail hashes and owner pseudonyms)

DATABASE_FILE = "leadjourney.duckdb"
OUT_DIR = "out"
LOCK_WAIT_SECONDS = 120.0  # how long a command waits for another process to release the database


MEMORY_ENV = "LEADJOURNEY_MEMORY_MB"
MEMORY_CAP_MB = 4096  # DuckDB's budget at most, unless LEADJOURNEY_MEMORY_MB says otherwise (see memory_limit_mb)


def memory_limit_mb(share: float = 0.6) -> int:
    """DuckDB's memory budget (MB): ``LEADJOURNEY_MEMORY_MB`` when set, else a share of physical memory (room for
    Python) up to :data:`MEMORY_CAP_MB`. Beyond it DuckDB spills joins, aggregates, sorts and temporary tables to
    the database's ``.tmp`` folder instead of growing: uncapped, analyze at 10M leads took 0.6 of the machine
    (14.7 GB of 24 GB), more than an analyst's 16 GB laptop can give it."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        if not text.isdigit() or int(text) < 256:
            raise OptionError(f"{MEMORY_ENV}={text!r}: DuckDB's memory budget in MB, a whole number of at least 256")
        return int(text)
    physical = _physical_mb(share)
    return MEMORY_CAP_MB if physical is None else max(512, min(MEMORY_CAP_MB, physical))


def memory_headroom_mb(share: float = 0.6) -> int | None:
    """The budget a query gets when it ran out of :func:`memory_limit_mb`'s (DuckDB cannot spill every
    operator): ``share`` of physical memory, uncapped; None when ``LEADJOURNEY_MEMORY_MB`` chose the budget
    (the analyst's word stands) or when it would be no larger."""
    if os.environ.get(MEMORY_ENV, "").strip():
        return None
    physical = _physical_mb(share)
    return physical if physical is not None and physical > memory_limit_mb(share) else None


def _physical_mb(share: float) -> int | None:
    """``share`` of the machine's physical memory in MB (None where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * share / 2**20)
    except (ValueError, OSError, AttributeError):
        return None


@dataclass
class _Kept:
    con: duckdb.DuckDBPyConnection
    read_only: bool


_kept: ContextVar[dict[str, _Kept] | None] = ContextVar("leadjourney_kept_databases", default=None)
_OFF: dict[str, _Kept] = {}  # inside databases_kept_open(False): never kept, nor read through another's
# every database a block keeps open, by path: another thread (a test's server) connects to it too, as DuckDB
# refuses a second instance of one file in a process
_live: dict[str, _Kept] = {}


@contextlib.contextmanager
def databases_kept_open(keep: bool = True) -> Iterator[None]:
    """Within the block, a workspace database once connected to stays open until the block ends, and each
    :meth:`Workspace.connect` is a new connection to it. Opening DuckDB costs about 17 ms (each instance loads its
    extensions) and a command connects dozens of times. ``keep=False``: not inside this block (a server, which
    must not hold the file between requests). Per thread: a thread started inside does not keep databases open.
    """
    outer = _kept.get()
    if keep and outer not in (None, _OFF):
        yield
        return
    if not keep and outer not in (None, _OFF):  # let go of what the enclosing block holds: the server opens anew
        _close(outer)
    token = _kept.set({} if keep else _OFF)
    try:
        yield
    finally:
        kept = _kept.get()
        _kept.reset(token)
        if kept is not None and kept is not _OFF:
            _close(kept)


def _close(kept: dict[str, _Kept]) -> None:
    with ctrl_c_held():  # the command's work is done (or rolled back): closing is not cut short by a Ctrl-C
        for key, base in kept.items():
            if _live.get(key) is base:
                del _live[key]
            base.con.close()
        kept.clear()


def _configured(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection with leadjourney's settings (a command may have changed the database's memory limit)."""
    import duckdb

    try:
        try:
            con.execute("SET enable_progress_bar = false")
        except duckdb.InterruptException:
            raise
        except duckdb.Error:  # Jupyter without ipywidgets refuses it (the bar is off there)
            pass
        con.execute(f"SET memory_limit = '{memory_limit_mb()}MB'")
        if threads := duckdb_threads():
            con.execute(f"SET threads = {threads}")
    except BaseException:
        con.close()
        raise
    return con


THREADS_ENV = "LEADJOURNEY_THREADS"


def duckdb_threads() -> int | None:
    """DuckDB's worker threads from ``LEADJOURNEY_THREADS`` (unset: DuckDB's default, one per core)."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise OptionError(f"{THREADS_ENV}={text!r}: a whole number of threads of at least 1")
    return int(text)


def _schema_complete(con: duckdb.DuckDBPyConnection) -> bool:
    """Every table and added column exists (one catalog query instead of the DDL's statements)."""
    present = set(con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE database_name = current_database() AND schema_name = 'main'").fetchall())
    return (all((table, schema.columns(table)[0]) in present for table in schema.TABLES)
            and all((table, column) in present for table, column, _ in schema.ADDED_COLUMNS))


class Workspace:
    """A workspace folder. Use :meth:`init` to create one and :meth:`open` to use one."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def database_path(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def out_dir(self) -> Path:
        return self.root / OUT_DIR

    @classmethod
    def init(cls, root: Path | str, *, exist_ok: bool = False) -> Workspace:
        """Create a workspace folder with a commented default config and an empty database."""
        root = Path(root)
        if (root / CONFIG_FILE).exists():
            if not exist_ok:
                raise WorkspaceError(f"{root}: already a workspace ({CONFIG_FILE} exists)")
        else:
            if root.exists() and not root.is_dir():
                raise WorkspaceError(f"{root}: exists and is not a folder")
            root.mkdir(parents=True, exist_ok=True)
            from leadjourney.config import default_config_text

            (root / CONFIG_FILE).write_text(default_config_text(), "utf-8")
        (root / OUT_DIR).mkdir(exist_ok=True)
        ws = cls.open(root)
        ws.ensure_database()
        return ws

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        """Open an existing workspace; the config is read and validated."""
        root = Path(root)
        if not (root / CONFIG_FILE).is_file():
            raise WorkspaceError(
                f"{root}: not a leadjourney workspace (no {CONFIG_FILE}); "
                f"create one with `leadjourney init {root}`"
            )
        from leadjourney.config import load_config

        return cls(root.resolve(), load_config(root / CONFIG_FILE))

    def ensure_database(self) -> None:
        """Create the canonical tables if missing and check the schema version."""
        with self.connect() as con:
            if not _schema_complete(con):
                for table in schema.TABLES:
                    con.execute(schema.ddl(table))
                for statement in schema.MIGRATIONS:
                    con.execute(statement)
            row = one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
            if row is None:
                now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
                con.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [
                        ("schema_version", str(schema.SCHEMA_VERSION)),
                        (SALT_KEY, secrets.token_hex(16)),
                        ("created_at", now),
                    ],
                )
            elif int(row[0]) != schema.SCHEMA_VERSION:
                raise WorkspaceError(
                    f"{self.database_path}: schema version {row[0]}, this leadjourney "
                    f"expects {schema.SCHEMA_VERSION}; re-create the workspace and re-ingest"
                )

    def connect(self, *, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection to the workspace database (use it as a context manager).

        DuckDB lets one process write or several read: while another process holds the file (a
        dashboard computing a view, a running command), this waits up to ``wait_seconds`` for it.
        Inside :func:`databases_kept_open`, the database stays open and this is a new connection to it.
        """
        if read_only and not self.database_path.exists():
            raise WorkspaceError(f"{self.root}: no database yet; run `leadjourney ingest` first")
        kept = _kept.get()
        key = str(self.database_path)
        if kept is None or kept is _OFF:
            live = _live.get(key) if kept is None else None
            if live is not None and (read_only or not live.read_only):  # kept open by another thread's block
                return _configured(live.con.cursor())
            return _configured(self._open(read_only, wait_seconds))
        base = kept.get(key)
        if base is not None and base.read_only and not read_only:  # opened for reading, now a write: reopen
            del kept[key], _live[key]  # first: a Ctrl-C while reopening must not leave the closed one kept
            base.con.close()
            base = None
        if base is None:
            base = kept[key] = _live[key] = _Kept(self._open(read_only, wait_seconds), read_only)
        return _configured(base.con.cursor())

    def _open(self, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
        import duckdb

        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return duckdb.connect(str(self.database_path), read_only=read_only)
            except duckdb.InterruptException:  # Ctrl-C, not a database that cannot open
                raise
            except duckdb.Error as exc:
                locked = "lock" in str(exc).lower()
                if locked and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                if locked:
                    raise WorkspaceError(
                        f"{self.database_path}: in use by another process for over {wait_seconds:g} s "
                        f"(a dashboard or another leadjourney command); try again when it is done"
                    ) from None
                raise WorkspaceError(f"{self.database_path}: cannot open database: {exc}") from None

    def meta(self, key: str) -> str | None:
        with self.connect() as con:
            row = one(con, "SELECT value FROM meta WHERE key = ?", [key])
        return None if row is None else str(row[0])

    def resolve(self, path: str) -> Path:
        """A source path from the config, resolved against the workspace folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p

    def set_sources(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace ``[[sources]]`` entries by name, keeping the file's comments."""
        import tomlkit

        doc = tomlkit.parse(self.config_path.read_text("utf-8"))
        existing = doc.get("sources")
        if existing is None:
            existing = tomlkit.aot()
            doc["sources"] = existing
        for entry in entries:
            item = tomlkit.table()
            for key, value in entry.items():
                item[key] = value
            for i, old in enumerate(existing):
                if old.get("name") == entry["name"]:
                    existing[i] = item
                    break
            else:
                existing.append(item)
        text = tomlkit.dumps(doc)
        from leadjourney.config import parse_config

        self.config = parse_config(text, origin=str(self.config_path))
        self.config_path.write_text(text, "utf-8")


__all__ = ["CONFIG_FILE", "DATABASE_FILE", "OUT_DIR", "Workspace"]
