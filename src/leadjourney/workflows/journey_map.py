"""The journey map of a selection and the tables it is drawn from, written into out/: the results computed on
one connection (so they share what the engine cached), the map built from them (:func:`build_map`) and written
in each format (:func:`write_map`); with ``tables``, also the paths, the suggested personas and the touchpoint,
persona and path tables beside it.

>>> run = journey_map("acme", formats=["html", "png"], tables=False)   # doctest: +SKIP
>>> [p.name for p in run.files]                                      # doctest: +SKIP
['journey_map.html', 'journey_map.png']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.analysis import Analysis, Filters
    from leadjourney.analysis.paths import Paths
    from leadjourney.analysis.persona_clusters import PersonaSuggestion
    from leadjourney.analysis.persona_profiles import PersonaProfiles
    from leadjourney.analysis.touchpoints import TouchpointInventory
    from leadjourney.journeymap.model import JourneyMap

ALL_FORMATS = "html,svg,png,drawio,mermaid,miro-csv"


@dataclass
class MapRun:
    """The map, the results it was drawn from and the files written."""

    journey_map: JourneyMap
    analysis: Analysis
    inventory: TouchpointInventory
    profiles: PersonaProfiles
    files: list[Path]
    paths: Paths | None = None
    suggestion: PersonaSuggestion | None = None


def journey_map(workspace: WorkspaceLike, filters: Filters | None = None, *, formats: Iterable[str] = (ALL_FORMATS,),
                scale: float = 1.0, tables: bool = True, out_dir: Path | None = None, now: datetime | None = None,
                progress: Progress = silent) -> MapRun:
    """Draw the map in ``formats`` (comma-separated items allowed; checked before any work) into ``out_dir``
    (default out/); ``tables``: also the touchpoint, persona and path tables, from the same run."""
    from leadjourney.analysis.findings import list_findings, selection_of
    from leadjourney.analysis.journeys import open_journeys
    from leadjourney.analysis.paths import Paths
    from leadjourney.analysis.persona_clusters import PersonaSuggestion
    from leadjourney.analysis.personas import PersonaReport
    from leadjourney.journeymap.build import build_map
    from leadjourney.journeymap.inputs import map_inputs
    from leadjourney.journeymap.render import check_formats, write_map
    from leadjourney.journeymap.tables import write_paths, write_personas, write_touchpoints

    chosen = check_formats(list(formats))
    ws = open_workspace(workspace)
    steps = 6 if tables else 4

    def step(message: str, done: int, total: int) -> None:  # map_inputs' first steps, of all of them
        progress(message, done, steps)

    paths = suggestion = None
    with open_journeys(ws, filters, now, check=True) as journeys:
        analysis, inventory, profiles = map_inputs(journeys, ws, progress=step)
        if tables:
            progress("paths", 3, steps)
            paths = Paths().fit(journeys)
            progress("suggested personas", 4, steps)
            suggestion = PersonaSuggestion().fit(journeys)
    progress("drawing", steps - 1, steps)
    drawn = build_map(analysis, inventory.rows, config=ws.config, personas=profiles,
                      findings=list_findings(ws, selection_of(analysis)), ideal=ws.config.targets or None)
    target = out_dir or ws.out_dir
    target.mkdir(parents=True, exist_ok=True)
    files = write_map(drawn, target, chosen, scale=scale)
    if paths is not None:
        report = PersonaReport(str(ws.root), journeys.filters, profiles, suggestion)
        files += [*write_touchpoints(inventory, target), *write_personas(report, target),
                  *write_paths(paths, target, title=f"{ws.config.name}: paths through the lifecycle",
                              labels=ws.config.labels, color=ws.config.brand_color)]
    progress("done", steps, steps)
    return MapRun(drawn, analysis, inventory, profiles, files, paths, suggestion)
