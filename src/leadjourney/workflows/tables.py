"""The tables the journey map is drawn from, one selection at a time: the touchpoint inventory, the persona
profiles (with personas suggested from the data) and the paths, each written into out/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Filters, Journeys
    from leadjourney.analysis.paths import Paths
    from leadjourney.analysis.personas import PersonaReport
    from leadjourney.analysis.touchpoints import TouchpointInventory
    from leadjourney.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class TableRun(Generic[T]):
    """A result and the files it was written to."""

    result: T
    files: list[Path]


def one_step(ws: Workspace, filters: Filters | None, label: str, run: Callable[[Journeys], T],
             progress: Progress = silent) -> T:
    """``run`` on the selection's journeys, reported as one step."""
    from leadjourney.analysis.journeys import open_journeys

    with open_journeys(ws, filters) as journeys:
        progress(label, 0, 1)
        result = run(journeys)
        progress("done", 1, 1)
    return result


def touchpoints(workspace: WorkspaceLike, filters: Filters | None = None, *,
                progress: Progress = silent) -> TableRun[TouchpointInventory]:
    """Every touchpoint kind x channel per stage, automated vs human, volume, reach, lift; out/touchpoints.*"""
    from leadjourney.analysis.touchpoints import TouchpointInventory
    from leadjourney.journeymap.tables import write_touchpoints

    ws = open_workspace(workspace)
    inventory = one_step(ws, filters, "touchpoint inventory", TouchpointInventory().fit, progress)
    return TableRun(inventory, write_touchpoints(inventory, ws.out_dir))


def personas(workspace: WorkspaceLike, filters: Filters | None = None, *, k: int | None = None, seed: int = 0,
             suggest: bool = True, progress: Progress = silent) -> TableRun[PersonaReport]:
    """The configured personas' profiles and (``suggest``) personas found in the data; out/personas.*"""
    from leadjourney.analysis.personas import personas_report
    from leadjourney.journeymap.tables import write_personas

    ws = open_workspace(workspace)
    report = personas_report(ws, filters=filters, k=k, seed=seed, suggest=suggest, progress=progress)
    return TableRun(report, write_personas(report, ws.out_dir))


def paths(workspace: WorkspaceLike, filters: Filters | None = None, *, top: int = 10,
          progress: Progress = silent) -> TableRun[Paths]:
    """The most common real paths, the happy path's share, dark and re-engagement paths, a Sankey; out/paths.*"""
    from leadjourney.analysis.paths import Paths
    from leadjourney.journeymap.tables import write_paths

    ws = open_workspace(workspace)
    found = one_step(ws, filters, "paths", Paths(top=top).fit, progress)
    return TableRun(found, write_paths(found, ws.out_dir, title=f"{ws.config.name}: paths through the lifecycle",
                                         labels=ws.config.labels, color=ws.config.brand_color))
