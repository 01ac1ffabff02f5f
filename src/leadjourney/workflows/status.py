"""The engagement's status: the playbook's checklists ticked from the workspace (out/status.md and .json), and
manual items marked done or undone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadjourney.reports.status import (
    NOT_RECORDED as NOT_RECORDED,  # for the CLI, which reads no report module
)
from leadjourney.workflows.tables import TableRun
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.reports.checklist import Record
    from leadjourney.reports.status import EngagementStatus


@dataclass(frozen=True)
class Undone:
    """A checklist item no longer marked done; ``was_done`` False: it was not, nothing changed."""

    item_id: str
    was_done: bool


def engagement_status(workspace: WorkspaceLike, *, label: str | None = None) -> TableRun[EngagementStatus]:
    """Every phase's checklist for the workspace, written into out/; the fixing commands name the workspace as
    ``label`` (as the user typed it; default: its path)."""
    from leadjourney.reports.status import engagement_status as gather_status
    from leadjourney.reports.status import write_status

    ws = open_workspace(workspace)
    status = gather_status(ws, label=label)
    return TableRun(status, write_status(status, ws.out_dir))


def mark_item_done(workspace: WorkspaceLike, item_id: str, note: str | None = None) -> Record:
    """Record a checklist item as done (again: its date and note replaced); an unknown id names the valid ones."""
    from leadjourney.reports.checklist import mark_done

    return mark_done(open_workspace(workspace), item_id, note)


def undo_item(workspace: WorkspaceLike, item_id: str) -> Undone:
    """Forget that a checklist item was marked done."""
    from leadjourney.reports.checklist import find_item, undo

    item = find_item(item_id)
    return Undone(item.id, undo(open_workspace(workspace), item.id))
