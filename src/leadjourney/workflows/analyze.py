"""The journey analysis of a selection; saved (out/analysis.md and .json, a snapshot, its findings) if asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Analysis, Filters
    from leadjourney.analysis.findings import Finding



@dataclass(frozen=True)
class AnalyzeRun:
    """An analysis and what saving it did."""

    analysis: Analysis
    selection: str  # the selection in words ("all leads", "source seo; ...")
    files: list[Path] = field(default_factory=list)  # out/analysis.md and .json (saved runs)
    snapshot: int | None = None  # the stored snapshot's id (saved runs)
    baseline: bool = False
    changed: list[Finding] = field(default_factory=list)  # signed findings this analysis now contradicts


def analyze(workspace: WorkspaceLike, filters: Filters | None = None, *, mode: str = "stage_reach",
            window_days: int = 90, save: bool = False, baseline: bool = False,
            progress: Progress = silent) -> AnalyzeRun:
    """Analyze the selection (checked first: a :class:`~leadjourney.errors.SelectionError` for an unknown
    value or nobody). ``save``: write out/analysis.md and .json and store the snapshot and its findings
    (``baseline``: the one later periods compare with), and keep the queries' compiled SQL for the next run
    (``<workspace>/.sql-cache``, :mod:`leadjourney.sql_store`); without it nothing in the workspace changes."""
    from leadjourney.analysis import analyze as compute
    from leadjourney.analysis.findings import list_findings, selection_label, selection_of, store
    from leadjourney.analysis.funnel import check_mode
    from leadjourney.sql_store import stored_sql

    check_mode(mode)  # before the workspace is read
    ws = open_workspace(workspace)
    if not save:
        result = compute(ws, filters=filters, mode=mode, window_days=window_days, progress=progress)
        return AnalyzeRun(result, selection_label(selection_of(result)))
    with stored_sql(ws.root):
        result = compute(ws, filters=filters, mode=mode, window_days=window_days, progress=progress)
    key = selection_of(result)
    ws.out_dir.mkdir(exist_ok=True)
    files = [ws.out_dir / "analysis.md", ws.out_dir / "analysis.json"]
    files[0].write_text(result.to_markdown(), "utf-8")
    files[1].write_text(result.to_json(), "utf-8")
    snapshot = store(ws, result, baseline=baseline)
    changed = [f for f in list_findings(ws, key) if f.changed_since_signoff]
    return AnalyzeRun(result, selection_label(key), files, snapshot, baseline, changed)
