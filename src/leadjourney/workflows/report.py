"""The documentation package of a selection, written into out/report/."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters
    from leadjourney.reports.package import ReportPackage

REPORT_DIR = "report"


@dataclass(frozen=True)
class ReportRun:
    package: ReportPackage
    formats: list[str]
    files: list[Path]


def build_report(workspace: WorkspaceLike, filters: Filters | None = None, *,
                 formats: Iterable[str] = ("md,html,docx,pptx",), progress: Progress = silent) -> ReportRun:
    """Every document from one analysis of the selection, in ``formats`` (md, html, docx, pptx; checked before
    any work), written into out/report/."""
    from leadjourney.reports.package import build_report as assemble
    from leadjourney.reports.package import check_formats

    chosen = check_formats(list(formats))
    ws = open_workspace(workspace)
    package = assemble(ws, filters=filters, progress=progress)
    return ReportRun(package, chosen, package.write(ws.out_dir / REPORT_DIR, chosen))
