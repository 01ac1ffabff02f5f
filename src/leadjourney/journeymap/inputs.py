"""What the journey map is drawn from, for one open selection: its analysis, touchpoint inventory and persona
profiles, computed on one connection so they share what the engine cached (the map and the report package)."""

from __future__ import annotations

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.report import Analysis, analyze_journeys
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.progress import Progress, silent
from leadjourney.workspace import Workspace


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
