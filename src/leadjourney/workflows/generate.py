"""Synthetic data into a workspace: the files with their ground truth, registered as its sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadjourney.errors import LeadJourneyError
from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.generate import GeneratedData, Scenario

FILE_FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class Generated:
    """What :func:`generate_into` wrote and registered."""

    data: GeneratedData
    leads: int
    sources: list[dict[str, str]]  # the [[sources]] entries registered, paths relative to the workspace


def generate_into(workspace: WorkspaceLike, *, leads: int = 20_000, seed: int = 7, days: int = 180,
                  end: date | None = None, file_format: str = "parquet", clean: bool = False,
                  scenario: Scenario | None = None, progress: Progress = silent) -> Generated:
    """Write ``leads`` generated leads under data/generated/ and register them as the workspace's sources."""
    from leadjourney.generate import Dirt
    from leadjourney.generate import generate as make_data

    if file_format not in FILE_FORMATS:
        raise LeadJourneyError(f"--format: expected parquet or csv, found {file_format!r}")
    ws = open_workspace(workspace)
    progress(f"generating {leads:,} leads", 0, 1)
    data = make_data(ws.root / "data" / "generated", n_leads=leads, seed=seed, end=end, days=days,
                     file_format=file_format,  # type: ignore[arg-type]
                     dirt=Dirt.none() if clean else Dirt(), scenario=scenario)
    sources = []
    for entry in data.sources:
        entry = dict(entry)
        entry["path"] = str(Path(data.files[entry["table"]]).resolve().relative_to(ws.root))
        sources.append(entry)
    ws.set_sources(sources)
    progress("done", 1, 1)
    return Generated(data, leads, sources)


def generate(out_dir: str | Path, **options: Any) -> GeneratedData:
    """Write synthetic inbound-lead exports and their ground truth to ``out_dir``; the options (``n_leads``,
    ``seed``, ``end``, ``days``, ``file_format``, ``dirt``, ``scenario``) are
    :func:`leadjourney.generate.generate`'s."""
    from leadjourney.generate import generate as make_data

    return make_data(Path(out_dir), **options)
