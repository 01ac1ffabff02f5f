"""Buyer personas: a profile per configured persona, and personas suggested by the data.

* :class:`~leadjourney.analysis.persona_profiles.PersonaProfiles`: per ``[[personas]]`` persona
  (and ``unassigned``): size, sources, funnel, time in stage, touchpoints, firmographics, and
  where its journey differs from the others;
* :class:`~leadjourney.analysis.persona_clusters.PersonaSuggestion` (:func:`suggest_personas`):
  k-means clusters on firmographics and behaviour, each with a ``[[personas]]`` block to paste.

:func:`personas_report` runs both on a workspace, sharing one per-person table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.persona_clusters import (
    PersonaCluster,
    PersonaSuggestion,
    suggest_personas,
)
from leadjourney.analysis.persona_profiles import PersonaProfile, PersonaProfiles, person_table
from leadjourney.progress import Progress, silent
from leadjourney.workspace import Workspace

__all__ = [
    "PersonaCluster",
    "PersonaProfile",
    "PersonaProfiles",
    "PersonaReport",
    "PersonaSuggestion",
    "personas_report",
    "suggest_personas",
]


@dataclass
class PersonaReport:
    """The configured personas' profiles and the data's suggestion, for one selection."""

    workspace: str
    filters: Filters
    profiles: PersonaProfiles
    suggestion: PersonaSuggestion | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "filters": self.filters.to_dict(),
            "profiles": self.profiles.to_dict(),
            "suggestion": self.suggestion.to_dict() if self.suggestion else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        text = self.profiles.to_markdown()
        return text + ("\n" + self.suggestion.to_markdown() if self.suggestion else "")


def personas_report(ws: Workspace, *, filters: Filters | None = None, now: datetime | None = None,
                    k: int | None = None, seed: int = 0, suggest: bool = True,
                    progress: Progress | None = None) -> PersonaReport:
    """Profile the configured personas of the workspace (or a selection) and suggest personas from the data.

    ``k`` fixes the number of suggested personas (else 2-4, by silhouette); ``seed`` makes the
    suggestion reproducible. The suggestion's :meth:`~PersonaSuggestion.assignments` are gone
    once this returns (the connection is closed); use the classes on a :class:`~leadjourney.analysis.journeys.Journeys` for them.
    """
    say = progress or silent
    filters = filters or Filters()
    # checked first: an unknown value, no data or nobody selected is an error, not a report of no one
    with open_journeys(ws, filters, now, check=True) as journeys:  # on the [engine] backend
        say("people", 0, 3)
        people = person_table(journeys)
        say("profiles", 1, 3)
        profiles = PersonaProfiles().fit(journeys, people=people)
        say("suggestion", 2, 3)
        suggestion = PersonaSuggestion(k=k, seed=seed).fit(journeys, people=people) if suggest else None
    say("done", 3, 3)
    return PersonaReport(str(ws.root), filters, profiles, suggestion)
