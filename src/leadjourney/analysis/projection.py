"""Projected final conversion of young cohorts, from the mature cohorts' time-to-convert curve.

A cohort created recently is still converting: its observed rate is a floor, and compared with a
matured baseline it reads as a collapse. For each consecutive transition A -> B this module
estimates what the cohort will end at:

* the **curve**: among people created at least the transition's maturity
  (:mod:`leadjourney.analysis.maturity`) before the as-of date with a dated
  entry into A, the Kaplan-Meier cumulative share converting to B (dated) within t days of
  entering A, ``F(t)`` (people not converted, disqualified or open, are at risk until the as-of
  date; conversions without a dated span scale the curve up, as if timed like the dated ones); its plateau ``F(H)`` is the share that converts within the longest wait
  seen (``H``), with a Greenwood 95% interval;
* each person still waiting in A (reached A, not B, not disqualified), who has waited ``a`` days,
  converts later with probability ``p(a) = (F(H) - F(a)) / (1 - F(a))``;
* the **projected final conversion** = (converted + sum of p) / entered. Its interval combines the
  plateau's interval (p evaluated at its bounds) with the binomial spread of the waiting people's
  outcomes (sum of p(1 - p)), so it is wider than the observed rate's.

It is an estimate, drawn distinctly from observed values; it assumes the young cohort converts at the
mature cohorts' pace and never beyond their longest observed wait. Conversions without dates for both
stages are counted as observed but cannot shape the curve. Only aggregated rows reach Python: the
curve's spans and the waiting people's ages are counted per whole day in the engine.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from leadjourney.analysis.readback import build
from leadjourney.analysis.stats import Z95
from leadjourney.analysis.status import OK, MetricStatus, too_few, withheld, young
from leadjourney.engine import column_array, fetch, fetch_rows, prepared

if TYPE_CHECKING:
    from leadjourney.analysis.journeys import Journeys


@dataclass(frozen=True)
class Curve:
    """One transition's time-to-convert curve from the mature cohorts: ``F`` per whole day waited."""

    days: np.ndarray  # whole days 0..H
    share: np.ndarray  # F(day): converted (dated) within that many days of entering
    plateau: float  # F(H)
    plateau_low: float
    plateau_high: float
    n: int  # mature people with a dated entry (the curve's risk set at 0)
    events: int  # of them, dated conversions

    def at(self, day: float) -> float:
        """F at ``day`` (held at the plateau beyond the longest wait seen)."""
        return float(self.at_days(np.array([day], dtype=float))[0])

    def at_days(self, days: np.ndarray) -> np.ndarray:
        """F at each of ``days``."""
        i = np.searchsorted(self.days, np.floor(days), side="right") - 1
        return np.where(i < 0, 0.0, self.share[np.clip(i, 0, len(self.share) - 1)])

    def later(self, waited: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For people who waited ``waited`` days: the chance each converts later, at the plateau and at the
        plateau's interval bounds: (F(H) - F(a)) / (1 - F(a))."""
        f = self.at_days(waited)
        room = np.where(f < 1.0, 1.0 - f, np.inf)
        return tuple(np.clip((top - f) / room, 0.0, 1.0)  # type: ignore[return-value]
                     for top in (self.plateau, self.plateau_low, self.plateau_high))


@dataclass(frozen=True)
class Projection:
    """A cohort's projected final conversion at one transition."""

    entered: int
    converted: int  # observed
    waiting: int  # of the entered: neither converted nor disqualified
    expected: float  # expected later conversions of the waiting
    rate: float | None  # (converted + expected) / entered
    ci_low: float | None
    ci_high: float | None
    status: MetricStatus = OK  # withheld when no curve (too few mature people)

    def to_dict(self) -> dict[str, Any]:
        return {"entered": self.entered, "converted": self.converted, "waiting": self.waiting,
                "expected": self.expected, "rate": self.rate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "status": self.status.status.value, "status_reason": self.status.reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Projection:
        """The inverse of :meth:`to_dict`."""
        return build(cls, d, status=MetricStatus.of(d))


def curves(backend: ibis.BaseBackend, people: ir.Table, pairs: Sequence[tuple[int, int]], as_of: datetime,
           mature_days: Sequence[int], min_n: int) -> dict[int, Curve | MetricStatus]:
    """Per pair index: the mature cohorts' :class:`Curve` (created at least the pair's ``mature_days`` before
    ``as_of``: :mod:`leadjourney.analysis.maturity`), or why there is none (fewer than ``min_n``)."""
    if not pairs:
        return {}
    query = prepared(backend, ("projection.curves", people.op(), as_of, tuple(mature_days), tuple(pairs)),
                     lambda: _curve_counts(people, pairs, as_of, mature_days))
    rows = fetch_rows(query)
    out: dict[int, Curve | MetricStatus] = {}
    for k in range(len(pairs)):
        mine = sorted((int(r["day"]), int(r["events"] or 0), int(r["censored"] or 0)) for r in rows if r["k"] == k)
        undated = sum(int(r["undated"] or 0) for r in rows if r["k"] == k)
        out[k] = _curve([m for m in mine if m[1] or m[2]], min_n, undated)
    return out


def _curve_counts(people: ir.Table, pairs: Sequence[tuple[int, int]], as_of: datetime,
                  mature_days: Sequence[int]) -> ir.Table:
    """Per pair ``k`` and whole days waited: dated conversions (events), the not converted (censored at the
    as-of date) and conversions without a dated span (undated), among the mature cohorts."""
    end = ibis.timestamp(as_of)
    parts = []
    for k, ((a, b), days_needed) in enumerate(zip(pairs, mature_days, strict=True)):
        mature = people.filter(people.created_at <= ibis.timestamp(as_of - timedelta(days=days_needed)))
        spans = mature.filter(mature[f"at_{a}"].notnull() & (mature[f"at_{a}"] <= end))
        start, stop = spans[f"at_{a}"], spans[f"at_{b}"]
        done = (stop.notnull() & (stop >= start)).fill_null(False)
        # not converted (yet): open people, and the disqualified, who never will (at risk, never an event)
        waiting = (spans.top < b).fill_null(True)
        kind = ibis.cases((done, "done"), (waiting, "waiting"), else_="undated")  # undated: converted, no span
        until = ibis.ifelse(done, stop, end)
        days = ((until.epoch_seconds() - start.epoch_seconds()) / 86400.0).floor().cast("int64")
        parts.append(spans.select(k=ibis.literal(k), day=days, kind=kind))
    spans = ibis.union(*parts)
    return spans.group_by(["k", "day"]).aggregate(
        events=(spans.kind == "done").sum(), censored=(spans.kind == "waiting").sum(),
        undated=(spans.kind == "undated").sum())


def _curve(rows: list[tuple[int, int, int]], min_n: int, undated: int = 0) -> Curve | MetricStatus:
    """The curve from (day, events, censored) rows; ``undated`` conversions (no dated span) scale it up, as if
    timed like the dated ones."""
    n = sum(e + c for _, e, c in rows) + undated
    events = sum(e for _, e, _ in rows)
    if n < min_n:
        return too_few(n, min_n, "mature people to draw the time-to-convert curve from") if n else withheld(
            "no mature cohort (created long enough ago) to project from")
    days = np.array([max(0, d) for d, _, _ in rows], dtype=np.int64)
    d = np.array([e for _, e, _ in rows], dtype=float)
    c = np.array([c for _, _, c in rows], dtype=float)
    at_risk = (d + c)[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(at_risk > 0, 1.0 - d / at_risk, 1.0)
        greenwood = np.where((at_risk > d) & (at_risk > 0), d / (at_risk * (at_risk - d)), 0.0)
    survival = np.cumprod(factors)
    scale = (events + undated) / events if events else 1.0
    share = np.minimum(1.0, (1.0 - survival) * scale)
    plateau = float(share[-1])
    se = float(survival[-1] * math.sqrt(float(greenwood.sum()))) * scale
    return Curve(days, share, plateau, max(0.0, plateau - Z95 * se), min(1.0, plateau + Z95 * se), n,
                 events + undated)


AGE_EDGES = (30, 45, 60, 90, 120, 180, 365)  # waits of whole days up to 29 apart, then grouped from these days


def waiting_ages(backend: ibis.BaseBackend, people: ir.Table, pairs: Sequence[tuple[int, int]],
                 as_of: datetime) -> pa.Table:
    """Rows of (k, created, n, age): people waiting in A (reached A, not B, not disqualified) per pair index
    ``k``, creation day and wait, with their mean whole days waited (since their dated entry into A, else
    since creation). Waits are counted per day up to 29 days, then in the groups of :data:`AGE_EDGES`: one
    small result serves every grouping of creation days (weeks, months, everyone)."""
    return fetch(prepared(backend, ("projection.waiting", people.op(), as_of, tuple(pairs)),
                          lambda: _waiting_counts(people, pairs, as_of)))


def _waiting_counts(people: ir.Table, pairs: Sequence[tuple[int, int]], as_of: datetime) -> ir.Table:
    end = ibis.timestamp(as_of)
    parts = []
    for k, (a, b) in enumerate(pairs):
        waiting = people.filter((people.top >= a) & (people.top < b)
                                & (people.status != "disqualified").fill_null(True)
                                & (people.created_at <= end))
        start = ibis.coalesce(waiting[f"at_{a}"], waiting.created_at)
        days = ((end.epoch_seconds() - start.epoch_seconds()) / 86400.0).floor().cast("int64")
        group = ibis.cases((days < AGE_EDGES[0], days), *[(days < hi, lo) for lo, hi in itertools.pairwise(AGE_EDGES)],
                           else_=AGE_EDGES[-1])
        parts.append(waiting.select(k=ibis.literal(k), created=waiting.created_at.truncate("D").cast("date"),
                                    group=group, days=days))
    ages = ibis.union(*parts)
    # ordered: the sums over these rows (waiting_by) must not depend on the engine's thread scheduling
    return (ages.group_by(["k", "created", "group"]).aggregate(n=ages.count(), age=ages.days.mean())
            .order_by(["k", "created", "group"]))


@dataclass(frozen=True)
class Waiting:
    """A group's people still waiting, and what the curve says of them: expected later conversions, their
    binomial variance, and the expectation at the plateau's interval bounds."""

    n: int = 0
    expected: float = 0.0
    variance: float = 0.0
    low: float = 0.0
    high: float = 0.0


def project(entered: int, converted: int, waiting: Waiting, curve: Curve | MetricStatus) -> Projection:
    """A cohort's projection from its counts and its waiting people (:func:`waiting_by`)."""
    if not entered:
        return Projection(0, 0, 0, 0.0, None, None, None, withheld("nobody entered"))
    if isinstance(curve, MetricStatus):
        return Projection(entered, converted, waiting.n, 0.0, None, None, None, curve)
    spread = Z95 * math.sqrt(waiting.variance)
    floor, ceiling = converted / entered, (converted + waiting.n) / entered
    rate = (converted + waiting.expected) / entered
    ci_low = max(floor, (converted + waiting.low - spread) / entered)
    ci_high = min(ceiling, (converted + waiting.high + spread) / entered)
    return Projection(entered, converted, waiting.n, waiting.expected, rate, min(ci_low, rate), max(ci_high, rate))


def waiting_by(ages: pa.Table, curves: Mapping[int, Curve | MetricStatus], period: str | None
               ) -> dict[tuple[int, date | None], Waiting]:
    """:func:`waiting_ages` summed per (pair index, creation period): ``period`` "week" (Monday), "month", or
    None for everyone. Vectorized over the (small) aggregated rows."""
    if ages.num_rows == 0:
        return {}
    k = column_array(ages, "k", int)
    n = column_array(ages, "n", float)
    waited = column_array(ages, "age")
    days = np.array(ages.column("created").to_pylist(), dtype="datetime64[D]")
    if period == "month":
        starts = days.astype("datetime64[M]").astype("datetime64[D]")
    elif period == "week":  # 1970-01-01 was a Thursday: Monday is 3 days before
        starts = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    else:
        starts = np.zeros(len(days), dtype="datetime64[D]")
    out: dict[tuple[int, date | None], Waiting] = {}
    for j, curve in curves.items():
        mine = k == j
        if not mine.any():
            continue
        keys, group = np.unique(starts[mine], return_inverse=True)
        count = np.bincount(group, weights=n[mine], minlength=len(keys))
        if isinstance(curve, Curve):
            p, low, high = curve.later(waited[mine])
            sums: list[np.ndarray] = [np.bincount(group, weights=n[mine] * x, minlength=len(keys))
                                      for x in (p, p * (1 - p), low, high)]
        else:
            sums = [np.zeros(len(keys), dtype=float)] * 4
        for g, key in enumerate(keys):
            when = None if period is None else key.astype(object)
            out[(j, when)] = Waiting(int(count[g]), *(float(x[g]) for x in sums))
    return out


def run_curves(journeys: Journeys, people: ir.Table) -> tuple[dict[int, Curve | MetricStatus], pa.Table]:
    """Per consecutive pair index: the curve (its mature cohorts per :mod:`leadjourney.analysis.maturity`), and
    the waiting people's ages (:func:`waiting_ages`) of ``people`` (the selection's people with ``top``).
    Computed once per run (:meth:`Journeys.remembered`): the funnel and the trend's periods share them."""
    from leadjourney.analysis.maturity import cohort_maturity

    names = journeys.config.stage_names
    pairs = list(itertools.pairwise(range(len(names))))
    as_of, min_n = journeys.as_of(), journeys.config.min_n
    maturity = cohort_maturity(journeys)
    mature = tuple(maturity[f"{names[a]}->{names[b]}"].days for a, b in pairs)
    curve = journeys.remembered(("curves", as_of, mature, tuple(pairs), min_n),
                                lambda: curves(journeys.backend, people, pairs, as_of, mature, min_n))
    ages = journeys.remembered(("waiting", as_of, tuple(pairs)),
                               lambda: waiting_ages(journeys.backend, people, pairs, as_of))
    return curve, ages


def selection_projections(journeys: Journeys, people: ir.Table, counts: Sequence[tuple[int, int]]
                          ) -> list[Projection]:
    """The whole selection's projected final conversion at each consecutive transition, from its
    (entered, converted) ``counts`` in lifecycle order; ``people`` as for :func:`run_curves`."""
    if not counts:
        return []
    curve, ages = run_curves(journeys, people)
    everyone = waiting_by(ages, curve, None)
    return [project(entered, converted, everyone.get((k, None), Waiting()), curve[k])
            for k, (entered, converted) in enumerate(counts)]


def still_converting(projection: Projection, points: float) -> MetricStatus | None:
    """``young`` when the projected final conversion is at least ``points`` percentage points (``[analysis]
    young_points``) above the rate observed so far, and at least one more person is expected to convert:
    people still converting hold it down. None otherwise."""
    if projection.rate is None or not projection.entered:
        return None
    observed = projection.converted / projection.entered
    if (projection.rate - observed) * 100 < points or projection.expected < 1:
        return None
    return young(f"still converting: projected final {projection.rate:.1%} ({projection.ci_low:.1%}-"
                 f"{projection.ci_high:.1%}), observed so far {observed:.1%}; {projection.waiting:,} of "
                 f"{projection.entered:,} still waiting, projected at the earlier cohorts' pace")
