"""The raw page store: each pulled page as a Parquet part, and a manifest with each object's high-water mark.

Layout under the workspace: ``pulls/SYSTEM/OBJECT/part-000001.parquet`` ... and
``pulls/SYSTEM/manifest.json``. A page is written to a temporary file and renamed, then the
manifest (also replaced atomically) lists it and moves the object's high-water mark to the
page's largest cursor. A crash leaves at most an unlisted part, deleted on the next pull, and
the pull resumes after the last listed page. Records seen before at the high-water mark (the
overlap re-read) are not stored again, so re-running a pull adds nothing. Readers keep the
latest version of each key (:meth:`RawStore.latest_sql`).

Values are stored as text (nested objects flattened to ``parent.child``, lists as JSON);
the canonical mapping and ingest parse them like any file's text.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leadjourney.connectors.base import ObjectSpec, Row
from leadjourney.ingest.sql import ident, lit

PULLS_DIR = "pulls"
MANIFEST = "manifest.json"
PART = "__part"  # column added to every stored row: the part it came from (latest part wins a tie)


@dataclass
class ObjectState:
    """What the manifest records for one object."""

    high_water: str | None = None  # the largest cursor stored
    parts: list[str] = field(default_factory=list)
    rows: int = 0
    pulled_at: str | None = None


def flatten(row: Row, prefix: str = "") -> dict[str, str | None]:
    """A record as text columns: nested mappings as ``a.b``, lists as JSON, None kept."""
    out: dict[str, str | None] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if key == "attributes" and isinstance(value, Mapping) and not prefix:
            continue  # Salesforce's per-record type and URL
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif value is None:
            out[name] = None
        elif isinstance(value, (list, tuple)):
            out[name] = json.dumps(value, default=str, ensure_ascii=False)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def email_hash(value: str, salt: str) -> str:
    """The salted hash ingest stores for an e-mail address (lower-cased, trimmed)."""
    return hashlib.sha256((salt + value.strip().lower()).encode("utf-8")).hexdigest()


class RawStore:
    """The pulled pages of one system in one workspace."""

    def __init__(self, root: Path, system: str, *, salt: str, keep_emails: bool) -> None:
        self.dir = root / PULLS_DIR / system
        self.system = system
        self.salt = salt
        self.keep_emails = keep_emails
        self.state = self._read_manifest()
        self._stored: dict[str, set[tuple[str, str]]] = {}  # per object: (key, cursor and version) since the pull began

    def _read_manifest(self) -> dict[str, ObjectState]:
        path = self.dir / MANIFEST
        if not path.exists():
            return {}
        data = json.loads(path.read_text("utf-8"))
        return {name: ObjectState(**item) for name, item in data.get("objects", {}).items()}

    def _write_manifest(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = {"system": self.system, "objects": {n: vars(s) for n, s in sorted(self.state.items())}}
        _replace(self.dir / MANIFEST, json.dumps(data, indent=2).encode("utf-8"))

    def object_state(self, name: str) -> ObjectState:
        return self.state.setdefault(name, ObjectState())

    def discard_unlisted(self) -> list[Path]:
        """Delete parts no manifest lists (a crash between writing a part and listing it)."""
        listed = {(n, p) for n, s in self.state.items() for p in s.parts}
        gone = []
        if self.dir.exists():
            for path in sorted(self.dir.glob("*/*.parquet*")):
                if (path.parent.name, path.name) not in listed:
                    path.unlink()
                    gone.append(path)
        return gone

    def begin(self, obj: ObjectSpec, since: str | None) -> None:
        """Start pulling ``obj`` from ``since``: note the versions already stored from there on."""
        self._stored[obj.name] = set()
        files = self.files(obj.name)
        if not files or (since is None and self.object_state(obj.name).high_water is not None):
            return

        paths = ", ".join(lit(str(p)) for p in files)
        keys = ", ".join(ident(k) for k in obj.key)
        where = "TRUE" if since is None else f"{ident(obj.cursor)} >= {lit(since)}"
        cursor = ", ".join(ident(c) for c in (obj.cursor, *obj.version))
        con = duckdb.connect()
        try:
            rows = con.execute(f"SELECT to_json([{keys}]), to_json([{cursor}]) FROM "
                               f"read_parquet([{paths}], union_by_name = true) WHERE {where}").fetchall()
        finally:
            con.close()
        self._stored[obj.name] = {(_key_text(json.loads(k)), _key_text(json.loads(c))) for k, c in rows}

    def store_page(self, obj: ObjectSpec, rows: Sequence[Row]) -> int:
        """Store one page (ascending cursor order within the pull); return the rows newly stored."""
        state = self.object_state(obj.name)
        stored = self._stored.setdefault(obj.name, set())
        fresh = []
        for row in rows:
            flat = self._private(obj, flatten(row))
            version = (_key_text([flat.get(k) for k in obj.key]),
                       _key_text([flat.get(c) for c in (obj.cursor, *obj.version)]))
            if version not in stored:
                stored.add(version)
                fresh.append(flat)
        if not fresh:
            return 0
        columns = sorted({c for r in fresh for c in r})
        number = len(state.parts) + 1
        name = f"part-{number:06d}.parquet"
        table = pa.table({c: pa.array([r.get(c) for r in fresh], pa.string()) for c in columns})
        table = table.append_column(PART, pa.array([number] * len(fresh), pa.int32()))
        target = self.dir / obj.name / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(name + ".tmp")
        pq.write_table(table, tmp)
        _fsync(tmp)
        os.replace(tmp, target)
        top = max((c for r in fresh if (c := r.get(obj.cursor)) is not None), default=None)
        if top is not None and (state.high_water is None or top > state.high_water):
            state.high_water = top
        state.parts.append(name)
        state.rows += len(fresh)
        state.pulled_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._write_manifest()
        return len(fresh)

    def _private(self, obj: ObjectSpec, row: dict[str, str | None]) -> dict[str, str | None]:
        if self.keep_emails:
            return row
        for name in obj.personal:
            value = row.get(name)
            if value:
                row[name] = email_hash(value, self.salt)
        return row

    def files(self, name: str) -> list[Path]:
        state = self.state.get(name)
        return [self.dir / name / p for p in state.parts] if state else []

    def latest_sql(self, obj: ObjectSpec) -> str | None:
        """DuckDB SQL for the object's records, the latest version of each key; None when nothing is pulled."""
        files = self.files(obj.name)
        if not files:
            return None
        paths = ", ".join(lit(str(p)) for p in files)
        order = f"{ident(obj.cursor)} DESC NULLS LAST, {ident(PART)} DESC"
        keys = ", ".join(ident(k) for k in obj.key)
        return (f"SELECT * EXCLUDE ({ident(PART)}) FROM read_parquet([{paths}], union_by_name = true) "
                f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) = 1")


def _key_text(values: Sequence[Any]) -> str:
    return json.dumps([None if v is None else str(v) for v in values])


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` atomically: a temporary file, flushed, renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
