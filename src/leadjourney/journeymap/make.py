"""One `leadjourney map` run: a selection's analysis, touchpoint inventory and persona
profiles, computed on one connection (so they share what the engine cached), then drawn;
with ``tables``, also the paths and the suggested personas, and the tables the map is drawn
from written beside it (touchpoints, personas, paths).

>>> run = make_map(Workspace.open("acme"), formats=["html", "png"], tables=False)   # doctest: +SKIP
>>> [p.name for p in run.files]                                                      # doctest: +SKIP
['journey_map.html', 'journey_map.png']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leadjourney.analysis.findings import list_findings, selection_of
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.paths import Paths
from leadjourney.analysis.persona_clusters import PersonaSuggestion
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.personas import PersonaReport
from leadjourney.analysis.report import Analysis, analyze_journeys
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.journeymap.build import build_map
from leadjourney.journeymap.model import JourneyMap
from leadjourney.journeymap.render import FORMATS, check_formats, write_map
from leadjourney.journeymap.tables import write_paths, write_personas, write_touchpoints
from leadjourney.progress import Progress, silent
from leadjourney.workspace import Workspace


@dataclass
class MapRun:
    journey_map: JourneyMap
    analysis: Analysis
    inventory: TouchpointInventory
    profiles: PersonaProfiles
    files: list[Path]
    paths: Paths | None = None
    suggestion: PersonaSuggestion | None = None


def make_map(ws: Workspace, *, filters: Filters | None = None, formats: Iterable[str] = FORMATS,
             out_dir: Path | None = None, now: datetime | None = None, scale: float = 1.0,
             tables: bool = False, progress: Progress | None = None) -> MapRun:
    """Compute what the map shows for the selection and write it in ``formats`` into out/.

    ``tables``: also compute the paths and the suggested personas in the same run and write the
    touchpoint, persona and path tables beside the map (what the three commands write).
    """
    say = progress or silent
    chosen = check_formats(formats)  # a bad format fails before any work
    steps = 6 if tables else 4

    def step(message: str, done: int, total: int) -> None:  # map_inputs' first steps, of all of them
        say(message, done, steps)

    paths = suggestion = None
    with open_journeys(ws, filters, now, check=True) as journeys:
        analysis, inventory, profiles = map_inputs(journeys, ws, progress=step)
        if tables:
            say("paths", 3, steps)
            paths = Paths().fit(journeys)
            say("suggested personas", 4, steps)
            suggestion = PersonaSuggestion().fit(journeys)
    say("drawing", steps - 1, steps)
    journey_map = draw_map(ws, analysis, inventory, profiles)
    target = out_dir or ws.out_dir
    target.mkdir(parents=True, exist_ok=True)
    files = write_map(journey_map, target, chosen, scale=scale)
    if paths is not None:
        report = PersonaReport(str(ws.root), journeys.filters, profiles, suggestion)
        files += [*write_touchpoints(inventory, target), *write_personas(report, target),
                  *write_paths(paths, target, title=f"{ws.config.name}: paths through the lifecycle",
                              labels=ws.config.labels, color=ws.config.brand_color)]
    say("done", steps, steps)
    return MapRun(journey_map, analysis, inventory, profiles, files, paths, suggestion)


def map_inputs(journeys: Journeys, ws: Workspace, *,
               progress: Progress | None = None) -> tuple[Analysis, TouchpointInventory, PersonaProfiles]:
    """The analysis, touchpoint inventory and persona profiles of one open selection (sharing its cache)."""
    say = progress or silent
    say("analysis", 0, 4)
    analysis = analyze_journeys(journeys, str(ws.root))
    say("touchpoint inventory", 1, 4)
    inventory = TouchpointInventory().fit(journeys)
    say("persona profiles", 2, 4)
    profiles = PersonaProfiles().fit(journeys, personas=analysis.personas)
    return analysis, inventory, profiles


def draw_map(ws: Workspace, analysis: Analysis, inventory: TouchpointInventory,
             profiles: PersonaProfiles) -> JourneyMap:
    """The journey map of those results, with the findings marks of their selection and ``[targets]``."""
    return build_map(analysis, inventory.rows, config=ws.config, personas=profiles,
                     findings=list_findings(ws, selection_of(analysis)), ideal=ws.config.targets or None)
