"""The stage and touchpoint log of a selection, for process-mining tools, written into out/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadjourney.errors import LeadJourneyError
from leadjourney.progress import Progress, silent
from leadjourney.workflows.tables import one_step
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters
    from leadjourney.journeymap.eventlog import EventLogExport


def event_log(workspace: WorkspaceLike, filters: Filters | None = None, *, fmt: str = "csv",
              progress: Progress = silent) -> EventLogExport:
    """out/event_log.csv or .xes (IEEE 1849: PM4Py, Disco, Celonis); the format is checked before any work."""
    from leadjourney.journeymap.eventlog import FORMATS, export_event_log

    if fmt not in FORMATS:
        raise LeadJourneyError(f"--format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    ws = open_workspace(workspace)
    ws.out_dir.mkdir(exist_ok=True)
    return one_step(ws, filters, f"writing {fmt}",
                    lambda journeys: export_event_log(journeys, ws.out_dir / f"event_log.{fmt}", fmt), progress)
