"""Computed dashboard numbers kept in memory and on disk in the workspace, so a restarted server answers at once.

Both are bounded, least recently used first out: :class:`MemoryCache` by entries and by the JSON size of
what it holds, :class:`DiskCache` by files and bytes per generation (one folder per *generation*: last
ingest, config, code; one JSON file per selection inside it; a new generation removes the older folders).
The folder is ``<workspace>/.dashboard-cache``, not ``out/``: the deliverables folder is shared, and the
cache's keys name owners.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

CACHE_DIR = ".dashboard-cache"
DISK_FILES = 4096  # files per generation on disk (a precompute of every pair of filter values needs ~1,000)
DISK_BYTES = 512 * 2**20  # bytes per generation on disk (a selection's numbers are ~100-200 kB of JSON)
MEMORY_BYTES = 256 * 2**20  # JSON bytes each in-memory cache holds at most

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def digest(value: Any) -> str:
    """A stable short hash of a JSON-serializable value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


def json_size(value: Any) -> int:
    """The size of ``value`` as JSON text: what a cache entry is measured by."""
    return len(json.dumps(value, default=str))


class MemoryCache(Generic[K, V]):
    """Values by key, least recently used first out beyond ``max_items`` entries or ``max_bytes`` (the sizes
    given with :meth:`put`). Not thread-safe: the caller holds its lock."""

    def __init__(self, max_items: int, max_bytes: int = MEMORY_BYTES) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def size_of(self, key: K) -> int:
        hit = self._items.get(key)
        return 0 if hit is None else hit[1]

    def put(self, key: K, value: V, size: int) -> None:
        old = self._items.pop(key, None)
        self.bytes -= 0 if old is None else old[1]
        self._items[key] = (value, size)
        self.bytes += size
        while self._items and (len(self._items) > self.max_items or self.bytes > self.max_bytes):
            _, (_, gone) = self._items.popitem(last=False)
            self.bytes -= gone


class DiskCache:
    """JSON values by (generation, key) under ``root``; unreadable files count as missing. Within a
    generation, the least recently used files go beyond ``max_files`` files or ``max_bytes``."""

    def __init__(self, root: Path, *, max_files: int = DISK_FILES, max_bytes: int = DISK_BYTES) -> None:
        self.root = root
        self.max_files, self.max_bytes = max_files, max_bytes
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._sizes: OrderedDict[str, int] = OrderedDict()  # the generation's files, least recently used first

    def _path(self, generation: str, key: str) -> Path:
        return self.root / generation / f"{key}.json"

    def get(self, generation: str, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(generation, key).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        with self._lock:
            if self._generation == generation and key in self._sizes:
                self._sizes.move_to_end(key)
        return value if isinstance(value, dict) else None

    def put(self, generation: str, key: str, value: dict[str, Any]) -> None:
        """Write atomically (a temporary file renamed), then remove the least recently used files beyond
        the bounds; a read-only workspace just skips caching."""
        folder = self.root / generation
        try:
            if not folder.is_dir():
                self.prune(keep=generation)
                folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, default=str)
                size = fh.tell()
            os.replace(tmp, self._path(generation, key))
        except OSError:
            return
        with self._lock:
            self._account(generation)
            self._sizes.pop(key, None)
            self._sizes[key] = size
            total = sum(self._sizes.values())
            while len(self._sizes) > 1 and (len(self._sizes) > self.max_files or total > self.max_bytes):
                gone, freed = self._sizes.popitem(last=False)
                total -= freed
                self._path(generation, gone).unlink(missing_ok=True)

    def usage(self, generation: str) -> tuple[int, int]:
        """(files, bytes) of ``generation`` on disk."""
        files = list((self.root / generation).glob("*.json"))
        return len(files), sum(f.stat().st_size for f in files)

    def _account(self, generation: str) -> None:
        """Start counting ``generation``'s files (those already there: oldest first)."""
        if self._generation == generation:
            return
        found = []
        for path in (self.root / generation).glob("*.json"):
            try:
                st = path.stat()
            except OSError:
                continue
            found.append((st.st_mtime_ns, path.stem, st.st_size))
        self._generation = generation
        self._sizes = OrderedDict((stem, size) for _, stem, size in sorted(found))

    def prune(self, keep: str) -> None:
        """Remove every generation but ``keep``."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.is_dir() and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
