"""``leadjourney pull WORKSPACE SYSTEM``: fetch what changed, keep it raw, map it, register it, ingest it.

The workflow never prints: it reports through the progress callback and returns a :class:`PullReport`.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from leadjourney.config import Config
from leadjourney.connectors import SYSTEMS
from leadjourney.connectors.base import CanonicalQuery, Connector, ObjectSpec
from leadjourney.connectors.raw import PULLS_DIR, RawStore
from leadjourney.connectors.settings import ConnectorSettings, connector_settings
from leadjourney.errors import ConfigError, PullError
from leadjourney.ingest.sql import ident, lit
from leadjourney.progress import Progress, silent
from leadjourney.workspace import SALT_KEY, Workspace


@dataclass(frozen=True)
class ObjectPull:
    """One object's pull: from where, how many records came, how many were new versions."""

    name: str
    since: str | None
    fetched: int = 0
    stored: int = 0
    high_water: str | None = None
    count: int | None = None  # --dry-run: what the API says a pull would fetch


@dataclass(frozen=True)
class PullReport:
    system: str
    dry_run: bool
    objects: list[ObjectPull]
    tables: dict[str, int] = field(default_factory=dict)  # canonical file name -> rows written
    skipped: dict[str, str] = field(default_factory=dict)  # canonical file name -> why not built
    registered: list[str] = field(default_factory=list)  # sources added to leadjourney.toml by this pull
    sources: list[str] = field(default_factory=list)  # every registered source the pull's files feed
    discarded: int = 0  # raw parts a crashed pull left unlisted, deleted


def settings_for(ws: Workspace, system: str) -> ConnectorSettings:
    """The ``[connectors.SYSTEM]`` table of the workspace's leadjourney.toml."""
    if system not in SYSTEMS:
        raise ConfigError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")
    raw = tomllib.loads(ws.config_path.read_text("utf-8"))
    found = connector_settings(raw, SYSTEMS)
    if system not in found:
        raise ConfigError(f"{ws.config_path}: no [connectors.{system}] table; add one (the commented "
                          f"example in the file shows its options)")
    return replace(found[system], stages=ws.config.stage_aliases())


def connect(system: str, settings: ConnectorSettings) -> Connector:
    """The system's connector (its module is imported only when used: each brings its API client)."""
    module = importlib.import_module(f"leadjourney.connectors.{system}")
    connector: Connector = module.connect(settings)
    return connector


def pull(ws: Workspace, system: str, *, objects: Sequence[str] = (), dry_run: bool = False, full: bool = False,
         connector: Connector | None = None, progress: Progress | None = None) -> PullReport:
    """Pull ``system`` into the workspace's raw store and rebuild its canonical files (not ingested here)."""
    settings = settings_for(ws, system)
    api = connector or connect(system, settings)
    chosen = _chosen(api, settings, objects)
    store = RawStore(ws.root, system, salt=ws.meta(SALT_KEY) or "", keep_emails=ws.config.keep_emails)
    say = progress or silent
    if dry_run:
        out = []
        for i, obj in enumerate(chosen):
            say(f"counting {system} {obj.name}", i, len(chosen))
            since = None if full else _since(store, obj, settings)
            out.append(ObjectPull(obj.name, since, count=api.count(obj, since)))
        return PullReport(system, True, out)
    discarded = len(store.discard_unlisted())
    pulled = [_pull_object(api, store, obj, None if full else _since(store, obj, settings), say, i, len(chosen))
              for i, obj in enumerate(chosen)]
    say(f"mapping {system} into canonical tables", len(chosen), len(chosen) + 1)
    tables, skipped = build_canonical(store, api, ws.config)
    registered = _register(ws, system, api.canonical(), tables)
    feeding = [n for q in api.canonical() if q.name in tables and (n := source_name(system, q))
               in {s.name for s in ws.config.sources}]
    return PullReport(system, False, pulled, tables, skipped, registered, feeding, discarded)


def _chosen(api: Connector, settings: ConnectorSettings, asked: Sequence[str]) -> list[ObjectSpec]:
    by_name = {o.name: o for o in api.objects}
    configured = settings.objects(by_name)
    names = list(asked) or list(configured or by_name)
    for name in names:
        if name not in by_name:
            raise ConfigError(f"{api.system} has no object {name!r}; expected some of {', '.join(by_name)}")
    return [by_name[n] for n in names]


def _since(store: RawStore, obj: ObjectSpec, settings: ConnectorSettings) -> str | None:
    """Where the next pull starts: the high-water mark less the overlap, else ``start``."""
    mark = store.object_state(obj.name).high_water
    if mark is None:
        return settings.start()
    minutes = settings.overlap_minutes() if obj.overlap is None else int(obj.overlap.total_seconds() // 60)
    return shift_back(mark, minutes)


def shift_back(mark: str, minutes: int) -> str:
    """The high-water mark ``minutes`` earlier, in the mark's own spelling; unchanged if it is not a time.

    >>> shift_back("2024-03-05T10:00:00.000+0000", 5)
    '2024-03-05T09:55:00.000+0000'
    >>> shift_back("2024-03-05T10:00:00Z", 5), shift_back("20240305", 5), shift_back("1234", 5)
    ('2024-03-05T09:55:00Z', '20240305', '1234')
    >>> shift_back("20240305", 3 * 1440), shift_back("2024-03-01", 1440)  # a date: whole days
    ('20240302', '2024-02-29')
    """
    if len(mark) in (8, 10) and mark[:4].isdigit() and minutes >= 1440:
        fmt = "%Y%m%d" if len(mark) == 8 else "%Y-%m-%d"
        try:
            day = datetime.strptime(mark, fmt)
        except ValueError:
            return mark
        return (day - timedelta(days=minutes // 1440)).strftime(fmt)
    if minutes <= 0 or len(mark) < 16 or mark[10] not in "T ":
        return mark
    try:
        when = datetime.fromisoformat(mark.replace("Z", "+00:00"))
    except ValueError:
        return mark
    earlier = when - timedelta(minutes=minutes)
    return earlier.strftime("%Y-%m-%dT%H:%M:%S") + mark[19:] if mark[19:20] in (".", "+", "-", "Z", "") else mark


def _pull_object(api: Connector, store: RawStore, obj: ObjectSpec, since: str | None, say: Progress,
                 done: int, total: int) -> ObjectPull:
    store.begin(obj, since)
    fetched = stored = 0
    say(f"pulling {api.system} {obj.name}", done, total + 1)
    for page in api.pages(obj, since):
        fetched += len(page)
        stored += store.store_page(obj, page)
        say(f"pulling {api.system} {obj.name}: {fetched:,} records", done, total + 1)
    return ObjectPull(obj.name, since, fetched, stored, store.object_state(obj.name).high_water)


def build_canonical(store: RawStore, api: Connector, config: Config | None = None) -> tuple[dict[str, int], dict[str, str]]:
    """Write each canonical file from the latest version of every pulled record; say why one is not built.

    Besides a view per object, the SQL sees the workspace's lifecycle (see :func:`lifecycle_views`).
    """
    con = duckdb.connect()
    tables: dict[str, int] = {}
    skipped: dict[str, str] = {}
    try:
        lifecycle_views(con, config)
        for obj in api.objects:
            sql = store.latest_sql(obj)
            if sql is not None:
                con.execute(f"CREATE VIEW {ident(obj.name)} AS {sql}")
        have = {obj.name for obj in api.objects if store.files(obj.name)}
        for query in api.canonical():
            missing = [o for o in query.objects if o not in have]
            if missing:
                skipped[query.name] = f"not pulled yet: {', '.join(missing)}"
                continue
            target = store.dir / f"{query.name}.parquet"
            tmp = target.with_name(target.name + ".tmp")
            select = query.sql
            if not store.keep_emails:  # the raw store holds the salted hash: ingest must not hash it again
                select = f"SELECT * RENAME (email AS email_hash) FROM ({query.sql})" if _has_email(con, query) \
                    else query.sql
            con.execute(f"COPY ({select}) TO {lit(str(tmp))} (FORMAT parquet)")
            os.replace(tmp, target)
            tables[query.name] = int(con.execute(f"SELECT count(*) FROM read_parquet({lit(str(target))})")
                                     .fetchone()[0])  # type: ignore[index]
    except duckdb.Error as exc:
        raise PullError(f"{api.system}: mapping the pulled records failed: {exc}") from exc
    finally:
        con.close()
    return tables, skipped


def lifecycle_views(con: duckdb.DuckDBPyConnection, config: Config | None) -> None:
    """Views ``stages(position, name)`` and ``stage_aliases(key, stage)`` of the configured lifecycle.

    ``key`` is a spelling normalized as ``[[stages]]`` aliases match (:func:`~leadjourney.ingest.sql.norm_key`),
    so a connector can keep only the status changes that enter a configured stage, as the export formats do.
    """
    stages = config.stages if config is not None else []
    aliases = config.stage_aliases() if config is not None else {}
    rows = " UNION ALL ".join(f"SELECT {i} AS position, {lit(s.name)} AS name" for i, s in enumerate(stages))
    con.execute("CREATE VIEW stages AS " + (rows or "SELECT NULL::INTEGER AS position, NULL::VARCHAR AS name WHERE FALSE"))
    pairs = " UNION ALL ".join(f"SELECT {lit(k)} AS key, {lit(v)} AS stage" for k, v in sorted(aliases.items()))
    con.execute("CREATE VIEW stage_aliases AS " + (pairs or "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS stage WHERE FALSE"))


def _has_email(con: duckdb.DuckDBPyConnection, query: CanonicalQuery) -> bool:
    names = [str(r[0]) for r in con.execute(f"DESCRIBE {query.sql}").fetchall()]
    return "email" in names


def _register(ws: Workspace, system: str, queries: Sequence[CanonicalQuery], built: dict[str, int]) -> list[str]:
    """Add a ``[[sources]]`` entry for each canonical file not registered yet (a user's edits are kept)."""
    known = {s.name for s in ws.config.sources}
    entries = []
    for q in queries:
        name = source_name(system, q)
        if q.name in built and name not in known:
            entries.append({"name": name, "path": str(Path(PULLS_DIR) / system / f"{q.name}.parquet"),
                            "format": "parquet", "table": q.table})
    if entries:
        ws.set_sources(entries)
    return [e["name"] for e in entries]


def source_name(system: str, query: CanonicalQuery) -> str:
    return f"{system}_{query.name}"
