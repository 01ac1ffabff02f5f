"""The dashboard's numbers: ``analyze(...)`` per filter selection, cached, plus baseline and freshness.

Every number shown is read from :meth:`Analysis.to_dict` (the ``analyze --json`` contract) or, for the
drop-off trend, :meth:`ConversionTrend.to_dict` on the same selection; this module only decides which
selection to analyze and keeps recent results.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadjourney.analysis.benchmarks import Benchmark, benchmarks_in_effect
from leadjourney.analysis.findings import baseline
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.report import analyze_journeys
from leadjourney.analysis.trend import PERIODS, ConversionTrend
from leadjourney.config import UNASSIGNED_PERSONA
from leadjourney.db import one
from leadjourney.workspace import Workspace

DEFAULT_SLA_MINUTES = 5.0
SLA_TERM = "speed-to-lead sla"


@dataclass(frozen=True)
class View:
    """What one filter selection shows: the analysis JSON, the baseline JSON and when data last arrived.

    ``trend`` holds :class:`ConversionTrend` JSON per period (``"week"``, ``"month"``); ``benchmarks``
    the config's benchmarks in effect, for the reference lines.
    """

    filters: Filters
    analysis: dict[str, Any]
    baseline: dict[str, Any] | None
    freshness: datetime | None
    sla_minutes: float
    trend: dict[str, dict[str, Any]] = field(default_factory=dict)
    benchmarks: tuple[Benchmark, ...] = ()


class DashboardData:
    """Numbers for filter selections, with a small LRU cache per (selection, last ingest).

    A new ingest changes the freshness stamp, so the next view recomputes: new data shows on
    reload without a restart.
    """

    def __init__(self, ws: Workspace, *, cache_size: int = 32) -> None:
        self.ws = ws
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Filters, datetime | None], View] = OrderedDict()
        self._lock = threading.Lock()  # one DuckDB reader at a time, and a consistent cache

    def freshness(self) -> datetime | None:
        """When the latest ingest finished (None before the first ingest)."""
        with self.ws.connect(read_only=True) as con:
            row = one(con, "SELECT max(finished_at) FROM ingests")
        return None if row is None else row[0]

    def view(self, filters: Filters) -> View:
        with self._lock:
            stamp = self.freshness()
            key = (filters, stamp)
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            with open_journeys(self.ws, filters) as journeys:  # one selection: the trend reuses the analysis' tables
                analysis = analyze_journeys(journeys, str(self.ws.root)).to_dict()
                trend = {p: ConversionTrend(period=p).fit(journeys).to_dict() for p in PERIODS}
            result = View(filters, analysis, baseline(self.ws), stamp, sla_minutes(self.ws), trend,
                          benchmarks_in_effect(self.ws.config))
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            return result

    def source_options(self) -> list[str]:
        """The sources of all people, largest first (from the unfiltered analysis)."""
        return [d["source"] for d in self.view(Filters()).analysis["sources"]["distribution"]]

    def persona_options(self) -> list[str]:
        return [p.name for p in self.ws.config.personas] + [UNASSIGNED_PERSONA]


def sla_minutes(ws: Workspace) -> float:
    """The Speed-to-Lead SLA from the config's definitions (5 minutes when none sets one)."""
    for d in ws.config.definitions:
        if d.sla_minutes is not None and d.term.strip().lower() == SLA_TERM:
            return d.sla_minutes
    return next((d.sla_minutes for d in ws.config.definitions if d.sla_minutes is not None), DEFAULT_SLA_MINUTES)
