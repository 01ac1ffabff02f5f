"""The workspace's tables written as Parquet, for Spark (``[engine] backend = "pyspark"``) or any reader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.table_export import Export


def export_tables(workspace: WorkspaceLike, *, force: bool = False, progress: Progress = silent) -> Export:
    """Every canonical and derived table to ``[engine] tables`` (``<workspace>/tables``) as Parquet, with a
    manifest; nothing is written when the export there already matches the workspace, unless ``force``."""
    from leadjourney import table_export

    ws = open_workspace(workspace)
    progress("export", 0, 1)
    export = table_export.export_tables(ws, force=force)
    progress("done", 1, 1)
    return export
