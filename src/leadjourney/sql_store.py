"""Compiled SQL kept on disk per workspace, so a new process does not compile the same Ibis expression again.

An expression's DuckDB SQL is a pure function of the expression and of the compiler (Ibis, sqlglot and DuckDB
versions): the key is a SHA-256 :func:`fingerprint` of the expression's whole operation graph (table names,
schemas, literals, parameters: everything that makes two expressions differ), so a changed selection, option or
code builds another key, never a stale hit. The file is ``<workspace>/.sql-cache/compiled-<versions>.json``
(another library version starts a new file); at most :data:`STORED_QUERIES` queries, the least recently used
dropped first; written atomically after a run that compiled something new, never after a failed one.

>>> with stored_sql(ws.root):                                   # doctest: +SKIP
...     analyze(ws)            # the second process's run reads its SQL from the file instead of compiling it
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

CACHE_DIR = ".sql-cache"
STORED_QUERIES = 2048  # queries kept per workspace (an analyze compiles ~50; the dashboard's shapes a few hundred)


class Unkeyable(Exception):
    """The expression holds a value with no stable text (an in-memory table, a UDF): it is not stored."""


def fingerprint(node: Any) -> str:
    """A stable hash of an Ibis operation graph: equal for equal expressions in any process."""
    return _text(node, {})


def _text(value: Any, memo: dict[int, str]) -> str:
    if value is None or isinstance(value, (bool, int, float, str, bytes, Decimal, date, datetime, time, timedelta)):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, Enum):  # an interval unit, a join kind
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (tuple, list, frozenset)):
        items = [_text(v, memo) for v in value]
        return "(" + ",".join(sorted(items) if isinstance(value, frozenset) else items) + ")"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_text(k, memo)}={_text(v, memo)}" for k, v in value.items()) + "}"
    names = getattr(type(value), "__argnames__", None)
    if names is not None:  # an Ibis operation, schema, data type or namespace
        found = memo.get(id(value))
        if found is None:
            kind = type(value)
            if kind.__name__ in ("InMemoryTable", "ScalarUDF", "AggUDF", "ElementWiseVectorizedUDF"):
                raise Unkeyable(kind.__name__)
            args = ",".join(f"{n}={_text(a, memo)}" for n, a in zip(names, value.__args__, strict=True))
            text = f"{kind.__module__}.{kind.__qualname__}[{args}]"  # a shared node is hashed once, not repeated
            found = memo[id(value)] = hashlib.sha256(text.encode()).hexdigest()[:32]
        return found
    backend_name = getattr(value, "name", None)
    if hasattr(value, "compile") and isinstance(backend_name, str):  # the backend a table belongs to
        return f"backend:{backend_name}"
    raise Unkeyable(type(value).__name__)


def _versions() -> str:
    """The compiler's versions, the file's name: SQL compiled by other versions is not read."""
    import duckdb
    import ibis
    import sqlglot

    return hashlib.sha256(f"{ibis.__version__} {sqlglot.__version__} {duckdb.__version__}".encode()).hexdigest()[:12]


class SqlStore:
    """The stored queries of one workspace: fingerprint -> SQL, least recently used first (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries: OrderedDict[str, str] = OrderedDict()
        self.changed = False
        self.lock = threading.Lock()
        self.queries.update(_read(path))

    def get(self, key: str) -> str | None:
        with self.lock:
            sql = self.queries.get(key)
            if sql is not None:
                self.queries.move_to_end(key)
            return sql

    def put(self, key: str, sql: str) -> None:
        with self.lock:
            self.queries[key] = sql
            self.changed = True
            while len(self.queries) > STORED_QUERIES:
                self.queries.popitem(last=False)

    def save(self) -> None:
        """Write the queries if any is new, beside what another process stored meanwhile (atomically: a
        reader sees the old file or the new one)."""
        with self.lock:
            if not self.changed:
                return
            ours = dict(self.queries)
            self.changed = False
        merged = {k: v for k, v in _read(self.path).items() if k not in ours}
        merged.update(ours)
        text = json.dumps(dict(list(merged.items())[-STORED_QUERIES:]))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _read(path: Path) -> dict[str, str]:
    """The stored queries of ``path``; none if it is missing or not a store."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if isinstance(k, str) and isinstance(v, str)}


_STORES: dict[Path, SqlStore] = {}  # one per workspace file for the process
_STORES_LOCK = threading.Lock()
_CURRENT: ContextVar[SqlStore | None] = ContextVar("leadjourney_sql_store", default=None)


def active() -> SqlStore | None:
    """The store of the run in progress in this thread, if it was opened with :func:`stored_sql`."""
    return _CURRENT.get()


@contextmanager
def stored_sql(workspace_root: Path) -> Iterator[SqlStore]:
    """Read compiled SQL from (and, after a run that succeeds, add it to) the workspace's store."""
    path = workspace_root / CACHE_DIR / f"compiled-{_versions()}.json"
    with _STORES_LOCK:
        store = _STORES.get(path)
        if store is None:
            store = _STORES[path] = SqlStore(path)
    token = _CURRENT.set(store)
    try:
        yield store
        with suppress(OSError):  # a read-only workspace still analyzes; its next run compiles again
            store.save()
    finally:
        _CURRENT.reset(token)
