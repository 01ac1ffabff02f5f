"""Drop-off points and the friction ranking, derived from the other analyses' results.

The playbook's template: per transition, drop-off %, time in stage, estimated revenue
impact = drop-off volume x average deal size x downstream conversion probability,
annualized, and a root-cause hypothesis. Nothing is recomputed here: the numbers come
from the funnel, sources, time in stage, speed-to-lead and dark-lead results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from leadjourney.analysis.benchmarks import Benchmark, benchmark_for, benchmarks_in_effect
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.sources import Sources
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.time_in_stage import TimeInStage
from leadjourney.engine import fetch_rows, fetch_value

SLOW_RESPONSE_MINUTES = 60.0  # a median speed-to-lead above this is called slow
NEVER_CONTACTED_HIGH = 0.2  # more than this share never contacted is called out
DARK_HIGH = 0.2  # more than this share of a stage's open people dark is called out


@dataclass(frozen=True)
class DropOff:
    """A transition (or a segment of one) converting significantly below what it should."""

    from_stage: str
    to_stage: str
    segment: str | None  # None for the whole transition, else "source=..." or "persona=..."
    rate: float
    ci_high: float
    compared_with: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"], out["to"] = out.pop("from_stage"), out.pop("to_stage")
        return out


@dataclass(frozen=True)
class FrictionRow:
    rank: int
    from_stage: str
    to_stage: str
    segment: str | None
    entered: int
    dropped: int
    drop_off_rate: float
    median_days: float | None
    downstream_probability: float
    revenue_impact: float  # per year, in the engagement currency
    hypothesis: str
    in_flight: int = 0  # of the dropped: still waiting for less than the transition's p90 (not counted as lost)
    lost: int = 0  # dropped - in_flight: what the revenue impact counts

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"], out["to"] = out.pop("from_stage"), out.pop("to_stage")
        return out


@dataclass
class Friction:
    """Drop-off points and the ranked friction table for one analysis run."""

    deal_size: float = 0.0
    deal_size_source: str = ""
    period_days: float = 0.0
    drop_offs: list[DropOff] = field(default_factory=list)
    rows: list[FrictionRow] = field(default_factory=list)

    def fit(self, journeys: Journeys, funnel: Funnel, sources: Sources, times: TimeInStage,
            speed: SpeedToLead, dark: DarkLeads, personas: Sources | None = None) -> Friction:
        """Rank transitions and their (transition, source) and (transition, persona) segments."""
        self._deal_size(journeys)
        self._period(journeys, times)
        # a segmentation with a single segment (say, no personas configured) repeats the transition
        segmentations = [seg for seg in (sources, personas) if seg is not None and len(seg.distribution) > 1]
        self.drop_offs = self._drop_offs(funnel, segmentations, benchmarks_in_effect(journeys.config))
        reached = {s.stage: s.reached for s in funnel.stages}
        last = funnel.stages[-1].stage if funnel.stages else ""
        median = {(r.from_stage, r.to_stage): (r.km_median_days if r.km_median_reached else r.median_days)
                  for r in times.rows}
        # people still waiting for less than the transition's p90 have not been lost (yet); cohort mode counts
        # mature leads only, so there is nobody in flight to set aside
        flying = {} if funnel.mode == "cohort" else {(r.from_stage, r.to_stage): r.n_in_flight for r in times.rows}
        candidates: list[tuple[str, str, str | None, int, int, float]] = []
        for t in funnel.transitions:
            if t.entered == 0:
                continue
            downstream = reached[last] / reached[t.to_stage] if reached[t.to_stage] else 0.0
            candidates.append((t.from_stage, t.to_stage, None, t.entered, t.dropped, downstream))
            for seg in segmentations:
                for c in seg.conversion:
                    if (c.from_stage, c.to_stage) == (t.from_stage, t.to_stage) and c.entered:
                        candidates.append((t.from_stage, t.to_stage, f"{seg.by}={c.source}", c.entered, c.dropped,
                                           downstream))
        scale = 365.0 / self.period_days if self.period_days > 0 else 1.0
        totals = {(t.from_stage, t.to_stage): t.dropped for t in funnel.transitions}
        scored = []
        for a, b, segment, entered, dropped, downstream in candidates:
            # a segment's share of the in-flight people is estimated as its share of the transition's dropped
            total = totals.get((a, b)) or 0
            in_flight = min(dropped, round(flying.get((a, b), 0) * (dropped / total if total else 0.0)))
            impact = (dropped - in_flight) * self.deal_size * downstream * scale
            scored.append((impact, a, b, segment, entered, dropped, downstream, in_flight))
        scored.sort(key=lambda r: (-r[0], r[1], r[2], r[3] or ""))
        self.rows = [
            FrictionRow(i + 1, a, b, segment, entered, dropped, dropped / entered, median.get((a, b)), downstream,
                        impact, self._hypothesis(a, b, segment, segmentations, times, speed, dark),
                        in_flight, dropped - in_flight)
            for i, (impact, a, b, segment, entered, dropped, downstream, in_flight) in enumerate(scored)
        ]
        return self

    def _deal_size(self, journeys: Journeys) -> None:
        people = journeys.people()  # won deals and their amount per person (see ingest.person_journeys)
        n, total = people.won_deals.sum(), people.won_amount.sum()
        row = fetch_rows(people.aggregate(n=n.fill_null(0), mean=total / n.nullif(0)))[0]
        if row["n"] and row["mean"]:
            self.deal_size, self.deal_size_source = float(row["mean"]), f"mean of {row['n']:,} won opportunities"
        else:
            self.deal_size = journeys.config.average_deal_size
            self.deal_size_source = "engagement.average_deal_size in the config (no won opportunities with amounts)"

    def _period(self, journeys: Journeys, times: TimeInStage) -> None:
        """Days from the first lead created to the as-of date (future-dated typos do not stretch it)."""
        people = journeys.people()
        first = fetch_value(people.created_at.min())
        if first is None or times.as_of is None:
            self.period_days = 0.0
            return
        self.period_days = max(1.0, (times.as_of - first).total_seconds() / 86400)

    @staticmethod
    def _drop_offs(funnel: Funnel, segmentations: list[Sources], benchmarks: tuple[Benchmark, ...]) -> list[DropOff]:
        out = []
        for t in funnel.transitions:
            if t.rate is None or t.ci_high is None:
                continue
            for bench in benchmark_for("conversion_rate", f"{t.from_stage}->{t.to_stage}", benchmarks=benchmarks):
                # significantly below the average is a drop-off; below top performers is merely normal
                if bench.tier == "average" and bench.source is None and bench.low is not None and t.ci_high < bench.low:
                    out.append(DropOff(t.from_stage, t.to_stage, None, t.rate, t.ci_high, bench.low,
                                       f"below the {bench.text()} benchmark even at the top of its 95% interval"))
                    break
        for seg in segmentations:
            for c in seg.conversion:
                if c.significant and c.direction == "lower" and c.rate is not None and c.ci_high is not None:
                    out.append(DropOff(c.from_stage, c.to_stage, f"{seg.by}={c.source}", c.rate, c.ci_high,
                                       c.rest_rate or 0.0,
                                       f"significantly below the other {seg.by}s (adjusted p {c.p_adjusted:.2g})"))
        return out

    @staticmethod
    def _hypothesis(a: str, b: str, segment: str | None, segmentations: list[Sources], times: TimeInStage,
                    speed: SpeedToLead, dark: DarkLeads) -> str:
        reasons = []
        if a == speed.signal_stage and speed.n_judged:
            if speed.median_minutes is not None and speed.median_minutes > SLOW_RESPONSE_MINUTES:
                reasons.append(f"slow speed-to-lead (median {speed.median_minutes / 60:.1f} h vs 5 minutes optimal)")
            if (speed.never_contacted_share or 0) > NEVER_CONTACTED_HIGH:
                reasons.append(f"{speed.never_contacted_share:.0%} never contacted by a person")
        if dark.n_open and dark.by_stage.get(a):
            share = dark.by_stage[a] / dark.n_open
            if share > DARK_HIGH:
                reasons.append(f"dark-lead concentration ({dark.by_stage[a]:,} open people went dark in {a})")
        for seg in segmentations:
            weak = [f"{seg.by}={c.source}" for c in seg.conversion
                    if (c.from_stage, c.to_stage) == (a, b) and c.significant and c.direction == "lower"]
            if segment is None and weak:
                reasons.append(f"weak {seg.by}s: " + ", ".join(w.split("=", 1)[1] for w in weak))
            elif segment in weak:
                reasons.append(f"this {seg.by} converts significantly worse than the others")
        stall = next((r for r in times.rows if (r.from_stage, r.to_stage) == (a, b)), None)
        if stall is not None and stall.caveat and stall.n_censored > stall.n_completed:
            reasons.append(f"long stall ({stall.n_censored:,} still waiting vs {stall.n_completed:,} converted)")
        return "; ".join(reasons) if reasons else "no signal in the data: ask stakeholders (ASSUMED)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "deal_size": self.deal_size,
            "deal_size_source": self.deal_size_source,
            "period_days": self.period_days,
            "annualized": True,
            "drop_offs": [d.to_dict() for d in self.drop_offs],
            "rows": [r.to_dict() for r in self.rows],
        }

