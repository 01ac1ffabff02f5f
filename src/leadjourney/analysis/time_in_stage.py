"""Time in stage per transition, and time to convert through the whole funnel.

The naive figures (mean, percentiles, histogram) use completed transitions only,
which understates how long leads wait: the ones still waiting are left out. The
Kaplan-Meier median counts people still in the stage as censored at the as-of
date; when fewer than half ever convert it is *not reached*, never a number.
Disqualified people who never converted left by another door: they are in
neither count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.readback import build, moment
from leadjourney.analysis.stats import km_median
from leadjourney.analysis.status import OK, MetricStatus, for_count, withheld
from leadjourney.engine import column_array, fetch, fetch_rows, prepared
from leadjourney.tabular import Tabular

PERCENTILES = (0.25, 0.5, 0.75, 0.9, 0.95)
HISTOGRAM_EDGES_DAYS = (0, 1, 3, 7, 14, 30, 60, 90, 180)
KM_RESOLUTION_HOURS = 1.0  # durations are grouped by the hour for the Kaplan-Meier curve
# the histogram is read from the same hourly groups: each edge must fall on a group's boundary
_EDGES_IN_GROUPS = tuple(e * 24 / KM_RESOLUTION_HOURS for e in HISTOGRAM_EDGES_DAYS)
assert all(e == int(e) for e in _EDGES_IN_GROUPS), "histogram edges must be whole multiples of the KM resolution"
# backends that compute several quantiles in one aggregate (one sort); elsewhere (warehouses) one call each
MULTI_QUANTILE_BACKENDS = frozenset({"duckdb", "pyspark"})
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
    n_in_flight: int = 0  # of the censored: waiting less than p90 of the completed (likely still to convert)
    n_entered: int | None = None  # the funnel's count at the transition (dated or not); None: not known here
    n_converted: int | None = None
    status: MetricStatus = OK  # too few dated conversions (min_n) to judge a duration; withheld with none

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"] = out.pop("from_stage")
        out["to"] = out.pop("to_stage")
        out["status"], out["status_reason"] = self.status.status.value, self.status.reason
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StageTime:
        return build(cls, d, from_stage=d["from"], to_stage=d["to"], status=MetricStatus.of(d))


@dataclass
class TimeInStage(Tabular):
    """Durations of each consecutive transition and of the whole funnel."""

    table_from = "rows"  # to_arrow() / to_pandas(): one row per item

    as_of: datetime | None = None
    rows: list[StageTime] = field(default_factory=list)

    def fit(self, journeys: Journeys) -> TimeInStage:
        self.as_of = self.as_of or journeys.as_of()
        names = journeys.config.stage_names
        pairs = [(i, i + 1) for i in range(len(names) - 1)]
        if len(names) > 2:
            pairs.append((0, len(names) - 1))
        if not pairs:
            self.rows = []
            return self
        # every transition's durations in one long table, so two grouped queries serve them all
        wide = journeys.wide()
        key = (wide.op(), self.as_of, tuple(pairs))

        def spans(waiting: bool = True) -> ir.Table:
            return ibis.union(*[self._spans(wide, k, a, b, waiting) for k, (a, b) in enumerate(pairs)])

        multi = getattr(journeys.backend, "name", None) in MULTI_QUANTILE_BACKENDS
        stats_query = prepared(journeys.backend, ("time_in_stage.stats", *key, multi),
                               lambda: self._stats(spans(waiting=False), multi=multi))
        stats = {r["k"]: _unpack_quantiles(r) for r in fetch_rows(stats_query)}
        p90 = {k: r.get("q90") for k, r in stats.items()}
        hourly = fetch(prepared(journeys.backend, ("time_in_stage.km", *key), lambda: self._by_hour(spans())))
        km, in_flight, histograms = self._km(hourly, p90)
        ks, censored = column_array(hourly, "k", int), column_array(hourly, "censored", int)
        self.rows = [replace(self._row(stats.get(k), int(censored[ks == k].sum()), km.get(k), histograms.get(k),
                                       names[a], names[b]), n_in_flight=in_flight.get(k, 0))
                     for k, (a, b) in enumerate(pairs)]
        return self

    def _spans(self, wide: ir.Table, k: int, a: int, b: int, waiting: bool = True) -> ir.Table:
        """Transition ``k`` (stage a to b): k, days, done (completed; else still waiting at the as-of date).
        Without ``waiting``, the completed spans only."""
        start, end = wide[f"at_{a}"], wide[f"at_{b}"]
        days = (end.epoch_seconds() - start.epoch_seconds()) / 86400.0
        completed = wide.filter(start.notnull() & end.notnull() & (end >= start))
        if not waiting:
            return completed.select(k=ibis.literal(k), days=days, done=ibis.literal(True))
        as_of = ibis.timestamp(self.as_of)
        waiting_days = (as_of.epoch_seconds() - start.epoch_seconds()) / 86400.0
        still = wide.filter(
            start.notnull() & (wide.top < b).fill_null(True) & (wide.status != "disqualified").fill_null(True)
            & (start <= as_of)
        )
        return completed.select(k=ibis.literal(k), days=days, done=ibis.literal(True)).union(
            still.select(k=ibis.literal(k), days=waiting_days, done=ibis.literal(False))
        )

    @staticmethod
    def _stats(completed: ir.Table, *, multi: bool = True) -> ir.Table:
        """Per transition: the naive figures over its completed spans; the exact (interpolated) quantiles
        in one aggregate with ``multi`` (one sort for all of them), else one each (``q25``, ``q50``, ...)."""
        days = completed.days
        if multi:
            quantiles = {"quantiles": days.quantile(list(PERCENTILES))}
        else:
            quantiles = {f"q{int(q * 100)}": days.quantile(q) for q in PERCENTILES}
        return completed.group_by("k").aggregate(n=completed.count(), mean=days.mean(), **quantiles)

    @staticmethod
    def _by_hour(spans: ir.Table) -> ir.Table:
        """Completed (``events``) and waiting (``censored``) spans per transition ``k`` and hour ``t``."""
        t = (spans.days * 24 / KM_RESOLUTION_HOURS).floor()
        return spans.group_by(["k", t.name("t")]).aggregate(events=spans.done.sum(), censored=(~spans.done).sum())

    @staticmethod
    def _km(table: pa.Table, p90: dict[int, float | None]
            ) -> tuple[dict[int, float | None], dict[int, int], dict[int, list[int]]]:
        """Kaplan-Meier median days per transition, from counts grouped by the hour (:meth:`_by_hour`); how
        many of those still waiting have waited less than the transition's p90 of completed durations; and
        the completed spans per histogram bucket (:data:`HISTOGRAM_EDGES_DAYS` fall on the hours' boundaries)."""
        hours = KM_RESOLUTION_HOURS
        ks, times = column_array(table, "k", int), column_array(table, "t")
        events, censored = column_array(table, "events", int), column_array(table, "censored", int)
        out: dict[int, float | None] = {}
        in_flight: dict[int, int] = {}
        histograms: dict[int, list[int]] = {}
        bucket = np.searchsorted(np.array(_EDGES_IN_GROUPS[1:]), times, side="right")  # the bucket of each hour
        for k in {int(k) for k in ks}:
            mine = ks == k
            median = km_median(times[mine], events[mine], censored[mine])
            out[k] = None if median is None else median * hours / 24
            limit = p90.get(k)
            # hour buckets: a wait counts as in flight when its bucket starts before the p90
            young = mine & (times * hours / 24 < limit) if limit is not None else np.zeros_like(mine)
            in_flight[k] = int(censored[young].sum())
            histograms[k] = np.bincount(bucket[mine], weights=events[mine], minlength=len(_EDGES_IN_GROUPS)
                                        ).astype(int).tolist()
        return out, in_flight, histograms

    def _row(self, stats: dict[str, Any] | None, n_censored: int, km: float | None, histogram: list[int] | None,
             from_stage: str, to_stage: str) -> StageTime:
        stats = stats or {}
        n_completed = int(stats.get("n") or 0)
        naive = stats.get("q50")
        return StageTime(
            from_stage=from_stage, to_stage=to_stage,
            n_completed=n_completed, n_censored=n_censored,
            mean_days=stats.get("mean"), p25_days=stats.get("q25"), median_days=naive, p75_days=stats.get("q75"),
            p90_days=stats.get("q90"), p95_days=stats.get("q95"),
            km_median_days=km, km_median_reached=km is not None,
            histogram=self._histogram(histogram or [0] * len(HISTOGRAM_EDGES_DAYS)),
            caveat=self._caveat(naive, km, n_completed, n_censored),
        )

    @staticmethod
    def _histogram(counts: list[int]) -> list[dict[str, Any]]:
        edges = HISTOGRAM_EDGES_DAYS
        bins = []
        for i, lo in enumerate(edges):
            hi = edges[i + 1] if i + 1 < len(edges) else None
            bins.append({"from_days": lo, "to_days": hi, "count": int(counts[i])})
        return bins

    @staticmethod
    def _caveat(naive: float | None, km: float | None, n_completed: int, n_censored: int,
                entered: int | None = None, converted: int | None = None) -> str | None:
        """Worded from the actual counts: the dated spans the durations read and, when the funnel's counts are
        given, how many entered and converted in all (conversions without a date have no duration)."""
        undated = (converted - n_completed) if converted is not None and converted > n_completed else 0
        dated = (f"{n_completed:,} dated conversions and {n_censored:,} dated entries still waiting"
                 if n_completed or n_censored else "")
        if n_completed + n_censored == 0:
            if entered:
                return (f"no durations: {converted or 0:,} of the {entered:,} who entered converted, none with "
                        "dates for both stages")
            return "nobody entered this stage in the selection"
        if km is None:
            text = (f"Kaplan-Meier median not reached: of the {n_completed + n_censored:,} people with a dated "
                    f"entry, {n_completed:,} have a dated conversion (fewer than half); the naive median "
                    "describes only those")
        elif naive is not None and km > 0 and abs(naive - km) / km > BIASED_IF_OFF_BY:
            text = (f"naive median ({naive:.1f} d) is biased by {100 * (naive - km) / km:+.0f}% against the "
                    f"censoring-aware median ({km:.1f} d): {n_censored:,} people are still waiting")
        elif undated:
            text = f"durations from {dated}"
        else:
            return None
        if undated and entered is not None:
            text += (f"; in all {converted:,} of the {entered:,} who entered converted, {undated:,} of them "
                     "without dates for both stages (no duration)")
        return text

    def with_counts(self, funnel: Funnel) -> TimeInStage:
        """Word each caveat from the funnel's counts too (who entered and converted, dated or not), and judge
        each duration by its dated conversions against the funnel's ``min_n``."""
        counts = {(t.from_stage, t.to_stage): t for t in funnel.transitions}
        first, last = (funnel.stages[0].stage, funnel.stages[-1].stage) if funnel.stages else ("", "")
        min_n = funnel.min_n or 1
        rows = []
        for r in self.rows:
            t = counts.get((r.from_stage, r.to_stage))
            entered = converted = None
            if t is not None:
                entered, converted = t.entered, t.converted
            elif (r.from_stage, r.to_stage) == (first, last):  # the whole funnel
                entered, converted = funnel.stages[0].reached, funnel.stages[-1].reached
            status = (withheld("no dated conversion") if r.n_completed == 0
                      else for_count(r.n_completed, min_n, "dated conversions"))
            caveat = self._caveat(r.median_days, r.km_median_days, r.n_completed, r.n_censored, entered, converted)
            rows.append(replace(r, n_entered=entered, n_converted=converted, status=status, caveat=caveat))
        self.rows = rows
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "transitions": [r.to_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimeInStage:
        return cls(moment(d.get("as_of")), [StageTime.from_dict(r) for r in d.get("transitions") or ()])


def _unpack_quantiles(row: dict[str, Any]) -> dict[str, Any]:
    """The ``quantiles`` list of a stats row as ``q25``, ``q50``, ... (None when nothing completed); a row
    with them already separate as it is."""
    if "quantiles" not in row:
        return row
    values = row.pop("quantiles", None) or [None] * len(PERCENTILES)
    row.update({f"q{int(q * 100)}": v for q, v in zip(PERCENTILES, values, strict=True)})
    return row
