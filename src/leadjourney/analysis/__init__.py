"""Journey analytics over the canonical model, computed inside the engine (Ibis over DuckDB)."""

from leadjourney.analysis.funnel import Funnel, StageCount, Transition
from leadjourney.analysis.journeys import Filters, Journeys
from leadjourney.analysis.report import Analysis, analyze
from leadjourney.analysis.time_in_stage import StageTime, TimeInStage

__all__ = ["Analysis", "Filters", "Funnel", "Journeys", "StageCount", "StageTime", "TimeInStage", "Transition", "analyze"]
