"""Recommendations for a selection, with the impact/effort matrix and the quick-win spec, written into out/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.tables import TableRun
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters
    from leadjourney.reports.recommendations import Recommendations


def recommend(workspace: WorkspaceLike, filters: Filters | None = None, *,
              progress: Progress = silent) -> TableRun[Recommendations]:
    """Recommendations ranked by revenue at stake per hour; out/recommendations.*, out/impact_effort.*"""
    from leadjourney.reports.recommendations import make_recommendations

    ws = open_workspace(workspace)
    recs = make_recommendations(ws, filters=filters, progress=progress)
    return TableRun(recs, recs.write(ws.out_dir))
