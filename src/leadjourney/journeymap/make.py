"""One `leadjourney map` run: a selection's analysis, touchpoint inventory and persona
profiles, computed on one connection (so they share what the engine cached), then drawn.

>>> run = make_map(Workspace.open("acme"), formats=["html", "png"])   # doctest: +SKIP
>>> [p.name for p in run.files]                                        # doctest: +SKIP
['journey_map.html', 'journey_map.png']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leadjourney.analysis.findings import list_findings
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.report import Analysis, analyze_journeys
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.journeymap.build import build_map
from leadjourney.journeymap.model import JourneyMap
from leadjourney.journeymap.render import FORMATS, check_formats, write_map
from leadjourney.progress import Progress, silent
from leadjourney.workspace import Workspace


@dataclass
class MapRun:
    journey_map: JourneyMap
    analysis: Analysis
    inventory: TouchpointInventory
    profiles: PersonaProfiles
    files: list[Path]


def make_map(ws: Workspace, *, filters: Filters | None = None, formats: Iterable[str] = FORMATS,
             out_dir: Path | None = None, now: datetime | None = None, scale: float = 1.0,
             progress: Progress | None = None) -> MapRun:
    """Compute what the map shows for the selection and write it in ``formats`` into out/."""
    say = progress or silent
    chosen = check_formats(formats)  # a bad format fails before any work
    with open_journeys(ws, filters, now) as journeys:
        analysis, inventory, profiles = map_inputs(journeys, ws, progress=say)
    say("drawing", 3, 4)
    journey_map = draw_map(ws, analysis, inventory, profiles)
    target = out_dir or ws.out_dir
    target.mkdir(parents=True, exist_ok=True)
    files = write_map(journey_map, target, chosen, scale=scale)
    say("done", 4, 4)
    return MapRun(journey_map, analysis, inventory, profiles, files)


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
    """The journey map of those results, with the workspace's findings marks and ``[targets]``."""
    return build_map(analysis, inventory.rows, config=ws.config, personas=profiles,
                     findings=list_findings(ws), ideal=ws.config.targets or None)
