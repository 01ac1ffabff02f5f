"""Computed dashboard numbers kept on disk in the workspace, so a restarted server answers at once.

One folder per *generation* (last ingest, config, code); one JSON file per selection inside it.
A new generation removes the older folders. The folder is ``<workspace>/.dashboard-cache``, not
``out/``: the deliverables folder is shared, and the cache's keys name owners.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

CACHE_DIR = ".dashboard-cache"


def digest(value: Any) -> str:
    """A stable short hash of a JSON-serializable value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


class DiskCache:
    """JSON values by (generation, key) under ``root``; unreadable files count as missing."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, generation: str, key: str) -> Path:
        return self.root / generation / f"{key}.json"

    def get(self, generation: str, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(generation, key).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, generation: str, key: str, value: dict[str, Any]) -> None:
        """Write atomically (a temporary file renamed); a read-only workspace just skips caching."""
        folder = self.root / generation
        try:
            if not folder.is_dir():
                self.prune(keep=generation)
                folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, default=str)
            os.replace(tmp, self._path(generation, key))
        except OSError:
            return

    def prune(self, keep: str) -> None:
        """Remove every generation but ``keep``."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.is_dir() and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
