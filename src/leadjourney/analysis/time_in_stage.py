"""Time in stage per transition, and time to convert through the whole funnel.

The naive figures (mean, percentiles, histogram) use completed transitions only,
which understates how long leads wait: the ones still waiting are left out. The
Kaplan-Meier median counts people still in the stage as censored at the as-of
date; when fewer than half ever convert it is *not reached*, never a number.
Disqualified people who never converted left by another door: they are in
neither count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.stats import km_median

PERCENTILES = (0.25, 0.5, 0.75, 0.9, 0.95)
HISTOGRAM_EDGES_DAYS = (0, 1, 3, 7, 14, 30, 60, 90, 180)
KM_RESOLUTION_HOURS = 1.0  # durations are grouped by the hour for the Kaplan-Meier curve
BIASED_IF_OFF_BY = 0.2  # naive vs Kaplan-Meier median differing by more than this share is called out


@dataclass(frozen=True)
class StageTime:
    from_stage: str
    to_stage: str
    n_completed: int
    n_censored: int
    mean_days: float | None
    p25_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None
    p95_days: float | None
    km_median_days: float | None
    km_median_reached: bool
    histogram: list[dict[str, Any]]
    caveat: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"] = out.pop("from_stage")
        out["to"] = out.pop("to_stage")
        return out


@dataclass
class TimeInStage:
    """Durations of each consecutive transition and of the whole funnel."""

    as_of: datetime | None = None
    rows: list[StageTime] = field(default_factory=list)

    def fit(self, journeys: Journeys) -> TimeInStage:
        self.as_of = self.as_of or journeys.as_of()
        names = journeys.config.stage_names
        wide = journeys.wide()
        pairs = [(i, i + 1) for i in range(len(names) - 1)]
        if len(names) > 2:
            pairs.append((0, len(names) - 1))
        self.rows = [self._one(wide, a, b, names) for a, b in pairs]
        return self

    def _one(self, wide: ir.Table, a: int, b: int, names: list[str]) -> StageTime:
        start, end = wide[f"at_{a}"], wide[f"at_{b}"]
        days = (end.epoch_seconds() - start.epoch_seconds()) / 86400.0
        completed = wide.filter(start.notnull() & end.notnull() & (end >= start)).mutate(days=days)
        waiting_days = (ibis.timestamp(self.as_of).epoch_seconds() - start.epoch_seconds()) / 86400.0
        waiting = wide.filter(
            start.notnull() & (wide.top < b).fill_null(True) & (wide.status != "disqualified").fill_null(True)
            & (start <= ibis.timestamp(self.as_of))
        ).mutate(days=waiting_days)
        stats = completed.aggregate(
            n=completed.count(),
            mean=completed.days.mean(),
            **{f"q{int(q * 100)}": completed.days.quantile(q) for q in PERCENTILES},
        ).to_pyarrow().to_pylist()[0]
        n_censored = int(waiting.count().to_pyarrow().as_py())
        km = self._km(completed, waiting)
        naive = stats["q50"]
        return StageTime(
            from_stage=names[a], to_stage=names[b],
            n_completed=int(stats["n"]), n_censored=n_censored,
            mean_days=stats["mean"], p25_days=stats["q25"], median_days=naive, p75_days=stats["q75"],
            p90_days=stats["q90"], p95_days=stats["q95"],
            km_median_days=km, km_median_reached=km is not None,
            histogram=self._histogram(completed),
            caveat=self._caveat(naive, km, int(stats["n"]), n_censored),
        )

    @staticmethod
    def _km(completed: ir.Table, waiting: ir.Table) -> float | None:
        hours = KM_RESOLUTION_HOURS
        both = completed.select(t=(completed.days * 24 / hours).floor(), event=ibis.literal(1)).union(
            waiting.select(t=(waiting.days * 24 / hours).floor(), event=ibis.literal(0))
        )
        grouped = both.group_by("t").aggregate(events=both.event.sum(), censored=(1 - both.event).sum())
        table = grouped.to_pyarrow()
        if table.num_rows == 0:
            return None
        median = km_median(
            table.column("t").to_numpy().astype(float),
            table.column("events").to_numpy(),
            table.column("censored").to_numpy(),
        )
        return None if median is None else median * hours / 24

    @staticmethod
    def _histogram(completed: ir.Table) -> list[dict[str, Any]]:
        edges = HISTOGRAM_EDGES_DAYS
        bucket = ibis.cases(
            *[(completed.days < hi, i) for i, hi in enumerate(edges[1:])], else_=len(edges) - 1
        )
        rows = completed.group_by(b=bucket).aggregate(n=completed.count()).to_pyarrow().to_pylist()
        counts = {r["b"]: r["n"] for r in rows}
        bins = []
        for i, lo in enumerate(edges):
            hi = edges[i + 1] if i + 1 < len(edges) else None
            bins.append({"from_days": lo, "to_days": hi, "count": int(counts.get(i, 0))})
        return bins

    @staticmethod
    def _caveat(naive: float | None, km: float | None, n_completed: int, n_censored: int) -> str | None:
        if n_completed + n_censored == 0:
            return "nobody entered this stage in the selection"
        if km is None:
            return (f"Kaplan-Meier median not reached: fewer than half of the {n_completed + n_censored:,} "
                    f"who entered have converted; the naive median describes only those who did")
        if naive is not None and km > 0 and abs(naive - km) / km > BIASED_IF_OFF_BY:
            return (f"naive median ({naive:.1f} d) is biased by {100 * (naive - km) / km:+.0f}% against the "
                    f"censoring-aware median ({km:.1f} d): {n_censored:,} people are still waiting")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "transitions": [r.to_dict() for r in self.rows]}

