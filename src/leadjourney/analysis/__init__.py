"""Journey analytics over the canonical model, computed inside the engine (Ibis over DuckDB)."""

from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.rates import StageCount, Transition
from leadjourney.analysis.report import Analysis, analyze, analyze_journeys
from leadjourney.analysis.sources import Sources
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.time_in_stage import StageTime, TimeInStage

__all__ = [
    "Analysis",
    "DarkLeads",
    "Filters",
    "Funnel",
    "Journeys",
    "Sources",
    "SpeedToLead",
    "StageCount",
    "StageTime",
    "TimeInStage",
    "Transition",
    "analyze",
    "analyze_journeys",
    "open_journeys",
]
