"""Pull a system over its API, then ingest what it registered: ``leadjourney pull WORKSPACE SYSTEM``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.connectors.pull import PullReport
    from leadjourney.ingest import IngestReport


@dataclass(frozen=True)
class PullRun:
    """What a pull fetched and mapped, and the ingest of its sources (None: dry run, --no-ingest, nothing built)."""

    pulled: PullReport
    ingested: IngestReport | None


def pull(workspace: WorkspaceLike, system: str, *, objects: Sequence[str] = (), dry_run: bool = False,
         full: bool = False, then_ingest: bool = True, progress: Progress = silent) -> PullRun:
    """Fetch ``system``'s changes into the raw store, rebuild its canonical files, register them, ingest them.

    An error or Ctrl-C during the ingest rolls the database back and takes the new registrations with it
    (the raw pages stay: the next pull starts after them).
    """
    from leadjourney.connectors.pull import pull as fetch
    from leadjourney.ingest import ingest as load

    ws = open_workspace(workspace)
    config_before = ws.config_path.read_text("utf-8")
    pulled = fetch(ws, system, objects=objects, dry_run=dry_run, full=full, progress=progress)
    if dry_run or not then_ingest or not pulled.sources:
        return PullRun(pulled, None)
    try:
        return PullRun(pulled, load(ws, only=pulled.sources, progress=progress))
    except BaseException:
        ws.config_path.write_text(config_before, "utf-8")
        raise
