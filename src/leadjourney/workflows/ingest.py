"""Load sources into a workspace, optionally registering one more file first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.errors import InterruptedAfterCommit, OptionError
from leadjourney.interrupts import caused_by_ctrl_c, ctrl_c_held
from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.ingest import IngestReport


@dataclass(frozen=True)
class FileSource:
    """A file to register as a source (``ingest --file``): its export format, and for csv/parquet the
    canonical table; the name defaults to the file's stem."""

    path: Path
    format: str | None
    table: str | None = None
    name: str | None = None
    timezone: str | None = None

    def entry(self, root: Path) -> dict[str, object]:
        """The [[sources]] entry: the path relative to the workspace when inside it."""
        from leadjourney.config import SOURCE_FORMATS

        if self.format is None:
            raise OptionError(f"--file {self.path}: say which export it is with --format "
                                   f"({', '.join(SOURCE_FORMATS)})")
        path = Path(self.path).resolve()
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        entry: dict[str, object] = {"name": self.name or Path(self.path).stem, "path": str(shown),
                                    "format": self.format}
        if self.table:
            entry["table"] = self.table
        if self.timezone:
            entry["timezone"] = self.timezone
        return entry


def ingest(workspace: WorkspaceLike, *, only: Sequence[str] = (), file: FileSource | None = None,
           force: bool = False, prune: bool = False, allow_empty: bool = True,
           progress: Progress = silent) -> IngestReport:
    """Ingest the workspace's sources (or ``only`` those named, plus ``file`` registered first) in one
    transaction. An error or Ctrl-C rolls the database back and takes the ``file`` registration with it.
    ``allow_empty=False``: files with a header and no rows, and nothing else, are an error."""
    from leadjourney.ingest import ingest as load
    from leadjourney.ingest import ingested_state

    ws = open_workspace(workspace)
    names = list(only)
    config_before = ws.config_path.read_text("utf-8")
    before = ingested_state(ws)
    try:
        if file is not None:
            entry = file.entry(ws.root)
            ws.set_sources([entry])
            names.append(str(entry["name"]))
        return load(ws, only=names, force=force, prune=prune, allow_empty=allow_empty, progress=progress)
    except BaseException as exc:
        with ctrl_c_held():
            if caused_by_ctrl_c(exc) and ingested_state(ws) != before:
                raise InterruptedAfterCommit from None  # it came after the commit: the new data stays
            if file is not None:  # the database rolled back; the registration goes too
                ws.config_path.write_text(config_before, "utf-8")
        raise
