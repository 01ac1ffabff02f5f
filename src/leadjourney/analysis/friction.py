"""Drop-off points and the friction ranking, derived from the other analyses' results.

The playbook's template: per transition, drop-off %, time in stage, estimated revenue
impact and a root-cause hypothesis. The playbook's revenue formula (drop-off volume x
average deal size x downstream conversion probability) prices every person who did not
convert, as if every one of them could have: here it is kept as the **value of all
drop-offs (upper bound)**, never the headline. The headline is the **recoverable
revenue**: what closing the gap to a named target would bring,

    max(0, target_rate - rate) x entered x downstream_probability x deal_size x scale

where the target is a ``[targets]`` entry of the config (it wins), else the low end of the
transition's average benchmark, and for a segment row (a source or persona at a transition)
the rate of the other segments, counted only when the segment is significantly below them
(a gap within noise is 0). Without a target the recoverable figure is 0, and says why.
``scale`` is 365 / the days the selection's creation dates span when they span at least
:data:`ANNUALIZE_MIN_DAYS`, else 1 (figures per the period, ``annualized: false``). Current
bookings (the won deals' amounts in the selection, scaled the same way) stand beside them.

Nothing is recomputed here: the numbers come from the funnel, sources, time in stage,
speed-to-lead and dark-lead results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import ibis

from leadjourney.analysis.benchmarks import (
    Benchmark,
    benchmark_for,
    benchmarks_in_effect,
    normalize_transition,
)
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.readback import build
from leadjourney.analysis.sources import Sources
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.status import OK, MetricStatus, Status
from leadjourney.analysis.time_in_stage import TimeInStage
from leadjourney.display import money as money  # re-exported: reports import it from here
from leadjourney.engine import fetch_rows
from leadjourney.tabular import Tabular

SLOW_RESPONSE_MINUTES = 60.0  # a median speed-to-lead above this is called slow
NEVER_CONTACTED_HIGH = 0.2  # more than this share never contacted is called out
DARK_HIGH = 0.2  # more than this share of a stage's open people dark is called out
ANNUALIZE_MIN_DAYS = 90.0  # creation dates spanning fewer days: figures per the period, not per year
CONFIGURED_TARGET = "configured target"


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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DropOff:
        return build(cls, d, from_stage=d["from"], to_stage=d["to"])


@dataclass(frozen=True)
class FrictionRow:
    """One transition (or a segment of one) in the friction ranking, with its money.

    ``recoverable_per_year`` is the headline (None when the row's status is not judged: too few
    people); ``value_of_all_dropoffs_per_year`` the playbook's upper bound. "Per year" only when the
    analysis is annualized (:attr:`Friction.annualized`), else per the period.
    """

    rank: int
    from_stage: str
    to_stage: str
    segment: str | None
    entered: int
    dropped: int
    drop_off_rate: float
    median_days: float | None
    downstream_probability: float
    value_of_all_dropoffs_per_year: float  # lost (dropped - in flight) x deal size x downstream x scale
    hypothesis: str
    in_flight: int = 0  # of the dropped: still waiting for less than the transition's p90 (not counted as lost)
    lost: int = 0  # dropped - in_flight: what the value of all drop-offs counts
    rate: float | None = None  # converted / entered
    target_rate: float | None = None
    target_source: str = ""  # where the target comes from, or why there is none
    recoverable_per_year: float | None = None  # the gap to the target, priced; None when not judged
    status: MetricStatus = OK  # the transition's (or segment's): too few people -> no recoverable figure

    @property
    def revenue_impact(self) -> float:
        """The playbook's formula as before: the value of all drop-offs (an upper bound, not the headline)."""
        return self.value_of_all_dropoffs_per_year

    @property
    def label(self) -> str:
        return f"{self.from_stage} → {self.to_stage}" + (f" ({self.segment})" if self.segment else "")

    def recoverable_text(self) -> str:
        """Why the recoverable figure is what it is (None: the status; 0: no target, or at/above it)."""
        if self.recoverable_per_year is None:
            return self.status.text() or "not judged"
        if self.target_rate is None:
            return self.target_source
        if self.rate is not None and self.rate >= self.target_rate:
            return f"at or above the target ({self.target_source})"
        return self.target_source

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"], out["to"] = out.pop("from_stage"), out.pop("to_stage")
        out["revenue_impact"] = self.value_of_all_dropoffs_per_year  # the key older readers know: the upper bound
        out["status"], out["status_reason"] = self.status.status.value, self.status.reason
        out["recoverable_reason"] = self.recoverable_text()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrictionRow:
        """The inverse of :meth:`to_dict`; rows stored before the upper bound had its name carry it as
        ``revenue_impact``."""
        return build(cls, d, from_stage=d["from"], to_stage=d["to"], status=MetricStatus.of(d),
                     value_of_all_dropoffs_per_year=d.get("value_of_all_dropoffs_per_year", d.get("revenue_impact")))


@dataclass
class Friction(Tabular):
    """Drop-off points and the ranked friction table for one analysis run."""

    table_from = "rows"  # to_arrow() / to_pandas(): one row per item

    deal_size: float = 0.0
    deal_size_source: str = ""
    deal_size_n: int = 0  # won deals with an amount in the selection
    deal_size_median: float | None = None  # median won amount per customer
    deal_size_mean: float | None = None  # mean won amount per deal
    deal_size_is_default: bool = False  # no won amounts: the config's average_deal_size stands in
    deal_size_warning: str | None = None
    currency: str = ""
    won_amount: float = 0.0  # the selection's won deals' amounts, over the period
    period_days: float = 0.0  # first lead created to the as-of date
    span_days: float = 0.0  # first to last lead created: what the figures are scaled by
    cohort_span_days: float | None = None  # cohort mode: the mature leads' creation span (the transition rows')
    annualized: bool = False
    min_annualize_days: float = ANNUALIZE_MIN_DAYS
    drop_offs: list[DropOff] = field(default_factory=list)
    rows: list[FrictionRow] = field(default_factory=list)

    @property
    def scale(self) -> float:
        """365 / span days when annualized, else 1 (figures per the period)."""
        return 365.0 / self.span_days if self.annualized and self.span_days > 0 else 1.0

    @property
    def transition_scale(self) -> float:
        """The transition rows' scale: in cohort mode their people are the mature leads, created over
        ``cohort_span_days``; otherwise :attr:`scale`."""
        if self.cohort_span_days is None:
            return self.scale
        return 365.0 / self.cohort_span_days if self.annualized and self.cohort_span_days > 0 else 1.0

    @property
    def bookings_per_year(self) -> float | None:
        """The won deals' amounts in the selection, scaled like the friction figures (None without any)."""
        return self.won_amount * self.scale if self.deal_size_n else None

    @property
    def per(self) -> str:
        """"yr" when annualized, else the period: what every money figure is per."""
        return "yr" if self.annualized else f"{self.span_days:.0f} d"

    @property
    def period_text(self) -> str:
        cohort = self.cohort_span_days
        if self.annualized:
            return (f"per year (annualized from {self.span_days:.0f} days of lead creation"
                    + (f"; the transition rows from the cohort of mature leads, created over {cohort:.0f} days)"
                       if cohort is not None else ")"))
        if cohort is not None and self.span_days >= self.min_annualize_days:
            return (f"per the period, not annualized: the cohort of mature leads behind the transition rows was "
                    f"created over {cohort:.1f} days, fewer than {self.min_annualize_days:.0f} (transition rows per "
                    f"those {cohort:.1f} days; segment rows and bookings per all {self.span_days:.0f} days)")
        return (f"per the period, not annualized: lead creation dates span {self.span_days:.0f} days, fewer "
                f"than {self.min_annualize_days:.0f}")

    def total_recoverable(self) -> float:
        """The transition rows' recoverable figures added up (segment rows overlap them: left out)."""
        return sum(r.recoverable_per_year or 0.0 for r in self.rows if r.segment is None)

    def total_value_of_all_dropoffs(self) -> float:
        return sum(r.value_of_all_dropoffs_per_year for r in self.rows if r.segment is None)

    def fit(self, journeys: Journeys, funnel: Funnel, sources: Sources, times: TimeInStage,
            speed: SpeedToLead, dark: DarkLeads, personas: Sources | None = None) -> Friction:
        """Rank transitions and their (transition, source) and (transition, persona) segments."""
        self.currency = journeys.config.currency
        self._deal_size_and_period(journeys, times)
        if funnel.mode == "cohort":
            self._cohort_span(journeys, funnel.window_days)
        # a segmentation with a single segment (say, no personas configured) repeats the transition
        segmentations = [seg for seg in (sources, personas) if seg is not None and len(seg.distribution) > 1]
        benchmarks = benchmarks_in_effect(journeys.config)
        self.drop_offs = self._drop_offs(funnel, segmentations, benchmarks)
        reached = {s.stage: s.reached for s in funnel.stages}
        last = funnel.stages[-1].stage if funnel.stages else ""
        median = {(r.from_stage, r.to_stage): (r.km_median_days if r.km_median_reached else r.median_days)
                  for r in times.rows}
        # people still waiting for less than the transition's p90 have not been lost (yet); cohort mode counts
        # mature leads only, so there is nobody in flight to set aside
        flying = {} if funnel.mode == "cohort" else {(r.from_stage, r.to_stage): r.n_in_flight for r in times.rows}
        targets = {normalize_transition(k): v for k, v in journeys.config.targets.items()}
        min_n = journeys.config.min_n
        rows: list[FrictionRow] = []
        for t in funnel.transitions:
            status = t.status
            if t.entered == 0 or not status.shown:
                continue  # withheld (a stage without data, say): no row at all
            downstream = reached[last] / reached[t.to_stage] if reached[t.to_stage] else 0.0
            pair, key = (t.from_stage, t.to_stage), f"{t.from_stage}->{t.to_stage}"
            target, source = self._target(key, targets, benchmarks)
            # still converting: the gap is priced from the projected final conversion, never the floor seen so far
            priced = t.projected.rate if status.status is Status.YOUNG and t.projected is not None else None
            if priced is not None and target is not None:
                source += f"; priced on the projected final {priced:.1%} (still converting; {t.rate:.1%} so far)"
            # (segment, entered, dropped, rate, target, where it comes from, status, whether the gap counts)
            entries: list[tuple[str | None, int, int, float | None, float | None, str, MetricStatus, bool]] = [
                (None, t.entered, t.dropped, t.rate, target, source, status, True)]
            for seg in segmentations:
                for c in seg.conversion:
                    if (c.from_stage, c.to_stage) != pair or not c.entered:
                        continue
                    seg_status = c.status
                    if not seg_status.shown:
                        continue
                    counts = bool(c.significant and c.direction == "lower")
                    rest: float | None = c.rest_rate
                    if rest is None:
                        why = f"no target: no other {seg.by}s at this transition to compare with"
                    elif c.rest_entered < min_n:  # a handful of others is no yardstick
                        rest, why = None, (f"no target: the other {seg.by}s are too few to compare with "
                                           f"({c.rest_entered:,} people, fewer than min_n = {min_n})")
                    else:
                        why = f"other {seg.by}s: {rest:.1%}"
                        if c.rate is not None and c.rate < rest and not counts:
                            why += " (the gap is within noise: not significantly below them, nothing counted)"
                    # a segment is only as judgeable as its transition; one still converting is compared with the
                    # other segments over the same dates (like with like)
                    inherits = seg_status.judged and not status.judged and status.status is not Status.YOUNG
                    entries.append((f"{seg.by}={c.source}", c.entered, c.dropped, c.rate, rest, why,
                                    status if inherits else seg_status, counts))
            total_dropped = t.dropped
            for segment, entered, dropped, rate, target_rate, target_source, row_status, counts in entries:
                # segments are counted over everyone (stage reach) even in cohort mode; transitions over the cohort
                scale = self.transition_scale if segment is None else self.scale
                # a segment's share of the in-flight people is estimated as its share of the transition's dropped
                share = dropped / total_dropped if total_dropped else 0.0
                in_flight = min(dropped, round(flying.get(pair, 0) * share))
                upper = (dropped - in_flight) * self.deal_size * downstream * scale
                on_projection = segment is None and priced is not None
                gap_rate = priced if on_projection else rate
                if not row_status.judged and not on_projection:
                    recoverable: float | None = None
                elif target_rate is None or gap_rate is None or not counts:
                    recoverable = 0.0
                else:
                    recoverable = max(0.0, target_rate - gap_rate) * entered * downstream * self.deal_size * scale
                rows.append(FrictionRow(
                    0, t.from_stage, t.to_stage, segment, entered, dropped, dropped / entered, median.get(pair),
                    downstream, upper, self._hypothesis(t.from_stage, t.to_stage, segment, segmentations, times,
                                                        speed, dark),
                    in_flight, dropped - in_flight, rate, target_rate, target_source, recoverable, row_status))
        # judged rows first, by recoverable; the upper bound breaks ties; rows without a figure last
        rows.sort(key=lambda r: (r.recoverable_per_year is None, -(r.recoverable_per_year or 0.0),
                                 -r.value_of_all_dropoffs_per_year, r.from_stage, r.to_stage, r.segment or ""))
        self.rows = [_with_rank(r, i + 1) for i, r in enumerate(rows)]
        return self

    @staticmethod
    def _target(key: str, targets: dict[str, float],
                benchmarks: tuple[Benchmark, ...]) -> tuple[float | None, str]:
        """A transition's target rate and where it comes from: the config's, else the average benchmark's low end."""
        configured = targets.get(normalize_transition(key))
        if configured is not None:
            return configured, f"{CONFIGURED_TARGET}: {configured:.1%} ([targets] in leadjourney.toml)"
        for bench in benchmark_for("conversion_rate", key, benchmarks=benchmarks):
            if bench.tier == "average" and bench.source is None and bench.low is not None:
                return bench.low, f"benchmark: {bench.text()}, low end {bench.low:.1%}"
        return None, f"no target: no benchmark or [targets] entry for {key}"

    def _cohort_span(self, journeys: Journeys, window_days: int) -> None:
        """Cohort mode: the creation span of the people old enough for the window (the funnel's cohort)."""
        people = journeys.people()
        cohort = people.filter(people.created_at + ibis.interval(days=window_days) <= ibis.timestamp(journeys.as_of()))
        row = fetch_rows(cohort.aggregate(first=cohort.created_at.min(), last=cohort.created_at.max()))[0]
        first, last = row["first"], row["last"]
        self.cohort_span_days = 0.0 if first is None else max(0.0, (last - first).total_seconds() / 86400)
        self.annualized = self.annualized and self.cohort_span_days >= self.min_annualize_days

    def _deal_size_and_period(self, journeys: Journeys, times: TimeInStage) -> None:
        """Won deals (n, median, mean) and the creation span, in one round trip."""
        people = journeys.people()  # won deals and their amount per person (see ingest.person_journeys)
        n, total = people.won_deals.sum(), people.won_amount.sum()
        per_customer = (people.won_amount / people.won_deals.nullif(0))
        row = fetch_rows(people.aggregate(
            n=n.fill_null(0), total=total, median=per_customer.median(),
            first=people.created_at.min(), last=people.created_at.max()))[0]
        deals = int(row["n"] or 0)
        config = journeys.config
        self.deal_size_n = deals
        self.won_amount = float(row["total"] or 0.0)
        if deals and row["total"]:
            self.deal_size = self.deal_size_mean = self.won_amount / deals
            self.deal_size_median = float(row["median"]) if row["median"] is not None else None
            self.deal_size_is_default, self.deal_size_warning = False, None
            self.deal_size_source = (f"mean of {deals:,} won deal{'s' if deals != 1 else ''} with an amount"
                                     + (f"; median per customer {money(self.deal_size_median, self.currency)}"
                                        if self.deal_size_median else ""))
        else:
            self.deal_size_n, self.won_amount = 0, 0.0
            self.deal_size = config.average_deal_size
            self.deal_size_mean = self.deal_size_median = None
            self.deal_size_is_default = True
            self.deal_size_warning = (f"no won deals with amounts: the configured average_deal_size "
                                      f"{config.average_deal_size:,.0f} {config.currency} stands in")
            self.deal_size_source = "engagement.average_deal_size in the config (no won deals with amounts)"
        first, last, as_of = row["first"], row["last"], times.as_of
        if first is None or as_of is None:
            self.period_days = self.span_days = 0.0
        else:
            # future-dated typos do not stretch it
            end = min(last, as_of) if last is not None else as_of
            self.period_days = max(1.0, (as_of - first).total_seconds() / 86400)
            self.span_days = max(0.0, (end - first).total_seconds() / 86400)
        self.annualized = self.span_days >= self.min_annualize_days

    @staticmethod
    def _drop_offs(funnel: Funnel, segmentations: list[Sources], benchmarks: tuple[Benchmark, ...]) -> list[DropOff]:
        out = []
        for t in funnel.transitions:
            if t.rate is None or t.ci_high is None or not t.status.judged:
                continue
            for bench in benchmark_for("conversion_rate", f"{t.from_stage}->{t.to_stage}", benchmarks=benchmarks):
                # significantly below the average is a drop-off; below top performers is merely normal
                if bench.tier == "average" and bench.source is None and bench.low is not None and t.ci_high < bench.low:
                    out.append(DropOff(t.from_stage, t.to_stage, None, t.rate, t.ci_high, bench.low,
                                       f"below the {bench.text()} benchmark even at the top of its 95% interval"))
                    break
        for seg in segmentations:
            for c in seg.conversion:
                if not c.status.judged:
                    continue
                if c.significant and c.direction == "lower" and c.rate is not None and c.ci_high is not None:
                    out.append(DropOff(c.from_stage, c.to_stage, f"{seg.by}={c.source}", c.rate, c.ci_high,
                                       c.rest_rate or 0.0,
                                       f"significantly below the other {seg.by}s (adjusted p {c.p_adjusted:.2g})"))
        return out

    @staticmethod
    def _hypothesis(a: str, b: str, segment: str | None, segmentations: list[Sources], times: TimeInStage,
                    speed: SpeedToLead, dark: DarkLeads) -> str:
        reasons = []
        # speed-to-lead and dark leads are cited only when their own status lets them be judged
        if a == speed.signal_stage and speed.n_judged and speed.status.judged:
            if speed.median_minutes is not None and speed.median_minutes > SLOW_RESPONSE_MINUTES:
                reasons.append(f"slow speed-to-lead (median {speed.median_minutes / 60:.1f} h vs 5 minutes optimal)")
            if (speed.never_contacted_share or 0) > NEVER_CONTACTED_HIGH:
                reasons.append(f"{speed.never_contacted_share:.0%} never contacted by a person")
        if dark.n_open and dark.by_stage.get(a) and dark.status.judged:
            share = dark.by_stage[a] / dark.n_open
            if share > DARK_HIGH:
                reasons.append(f"dark-lead concentration ({dark.by_stage[a]:,} open people went dark in {a})")
        for seg in segmentations:
            weak = [f"{seg.by}={c.source}" for c in seg.conversion
                    if (c.from_stage, c.to_stage) == (a, b) and c.significant and c.direction == "lower"
                    and c.status.judged]
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
            "deal_size_n": self.deal_size_n,
            "deal_size_median": self.deal_size_median,
            "deal_size_mean": self.deal_size_mean,
            "deal_size_is_default": self.deal_size_is_default,
            "deal_size_warning": self.deal_size_warning,
            "currency": self.currency,
            "period_days": self.period_days,
            "span_days": self.span_days,
            "cohort_span_days": self.cohort_span_days,
            "annualized": self.annualized,
            "annualize_min_days": self.min_annualize_days,
            "scale": self.scale,
            "bookings_per_year": self.bookings_per_year,
            "won_amount": self.won_amount,
            "total_recoverable_per_year": self.total_recoverable(),
            "total_value_of_all_dropoffs_per_year": self.total_value_of_all_dropoffs(),
            "definitions": DEFINITIONS,
            "drop_offs": [d.to_dict() for d in self.drop_offs],
            "rows": [r.to_dict() for r in self.rows],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Friction:
        """The inverse of :meth:`to_dict` (the scale, bookings, totals and definitions are derived)."""
        return build(cls, d, min_annualize_days=d.get("annualize_min_days", ANNUALIZE_MIN_DAYS),
                     drop_offs=[DropOff.from_dict(x) for x in d.get("drop_offs") or ()],
                     rows=[FrictionRow.from_dict(r) for r in d.get("rows") or ()])


DEFINITIONS = {
    "recoverable_per_year": "max(0, target_rate - rate) x entered x downstream_probability x deal_size x scale; "
                            "target: [targets] in the config, else the average benchmark's low end (transitions), "
                            "the other segments' rate (segments); none: 0. A transition still converting (young) "
                            "is priced from its projected final rate instead. Not judged (too few people): null.",
    "value_of_all_dropoffs_per_year": "(dropped - in_flight) x deal_size x downstream_probability x scale: the "
                                      "playbook's formula, an upper bound (every drop-off won back), not the headline",
    "bookings_per_year": "the won deals' amounts in the selection x scale",
    "scale": "365 / span_days when annualized (creation dates span >= annualize_min_days), else 1",
    "total_recoverable_per_year": "the transition rows' recoverable added up (segment rows overlap them)",
}


def friction_notes(fr: Friction) -> list[str]:
    """Why a transition has no recoverable figure (no target; at or above it; too few), in one line each:
    "upper bound" is the value of all drop-offs; "recoverable" needs a target."""
    out = []
    whole = [r for r in fr.rows if r.segment is None]
    none = [f"{r.from_stage}->{r.to_stage}" for r in whole if r.target_rate is None]
    if none:
        out.append(f"No target for {', '.join(none)}: recoverable 0 there; set [targets] in leadjourney.toml "
                   "to price them.")
    at = [f"{r.from_stage}->{r.to_stage} {r.rate:.1%} vs {r.target_rate:.1%}" for r in whole
          if r.target_rate is not None and r.rate is not None and r.rate >= r.target_rate
          and r.recoverable_per_year is not None]
    if at:
        out.append(f"At or above target: {', '.join(at)}: nothing to recover there.")
    unjudged = [f"{r.label} ({r.status.text()})" for r in whole if r.recoverable_per_year is None]
    if unjudged:
        out.append("Without a recoverable figure: " + "; ".join(unjudged) + ".")
    return out


def _with_rank(row: FrictionRow, rank: int) -> FrictionRow:
    return replace(row, rank=rank)

