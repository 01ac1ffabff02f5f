"""The journey map of a selection and the tables it is drawn from, written into out/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters
    from leadjourney.journeymap.make import MapRun

ALL_FORMATS = "html,svg,png,drawio,mermaid,miro-csv"


def journey_map(workspace: WorkspaceLike, filters: Filters | None = None, *, formats: Iterable[str] = (ALL_FORMATS,),
                scale: float = 1.0, tables: bool = True, progress: Progress = silent) -> MapRun:
    """Draw the map in ``formats`` (comma-separated items allowed); ``tables``: also the touchpoint, persona
    and path tables, from the same run. Returns the map, the results it was drawn from and the files."""
    from leadjourney.journeymap.make import make_map

    return make_map(open_workspace(workspace), filters=filters, formats=list(formats), scale=scale, tables=tables,
                    progress=progress)
