"""The data-quality checks, written to out/quality.md and out/quality.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.quality import QualityReport


@dataclass(frozen=True)
class QualityRun:
    report: QualityReport
    files: list[Path]  # out/quality.md and .json


def check_quality(workspace: WorkspaceLike, *, progress: Progress = silent) -> QualityRun:
    """Run every check and write the report beside the workspace's other outputs."""
    from leadjourney.quality import run_quality

    ws = open_workspace(workspace)
    report = run_quality(ws, progress=progress)
    ws.out_dir.mkdir(exist_ok=True)
    files = [ws.out_dir / "quality.md", ws.out_dir / "quality.json"]
    files[0].write_text(report.to_markdown(), "utf-8")
    files[1].write_text(report.to_json(), "utf-8")
    return QualityRun(report, files)
