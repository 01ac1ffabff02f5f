"""Projected final conversion of young cohorts, from the mature cohorts' time-to-convert curve.

A cohort created recently is still converting: its observed rate is a floor, and compared with a
matured baseline it reads as a collapse. For each consecutive transition A -> B this module
estimates what the cohort will end at:

* the **curve**: among people created at least ``mature_days`` before the as-of date with a dated
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
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from leadjourney.analysis.stats import Z95
from leadjourney.analysis.status import OK, MetricStatus, too_few, withheld
from leadjourney.engine import fetch_rows, prepared


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
        i = int(np.searchsorted(self.days, math.floor(day), side="right")) - 1
        return 0.0 if i < 0 else float(self.share[min(i, len(self.share) - 1)])


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


def curves(backend: ibis.BaseBackend, people: ir.Table, pairs: Sequence[tuple[int, int]], as_of: datetime,
           mature_days: int, min_n: int) -> dict[int, Curve | MetricStatus]:
    """Per pair index: the mature cohorts' :class:`Curve`, or why there is none (fewer than ``min_n``)."""
    if not pairs:
        return {}
    query = prepared(backend, ("projection.curves", people.op(), as_of, mature_days, tuple(pairs)),
                     lambda: _curve_counts(people, pairs, as_of, mature_days))
    rows = fetch_rows(query)
    out: dict[int, Curve | MetricStatus] = {}
    for k in range(len(pairs)):
        mine = sorted((int(r["day"]), int(r["events"] or 0), int(r["censored"] or 0)) for r in rows if r["k"] == k)
        undated = sum(int(r["undated"] or 0) for r in rows if r["k"] == k)
        out[k] = _curve([m for m in mine if m[1] or m[2]], min_n, undated)
    return out


def _curve_counts(people: ir.Table, pairs: Sequence[tuple[int, int]], as_of: datetime, mature_days: int) -> ir.Table:
    """Per pair ``k`` and whole days waited: dated conversions (events), the not converted (censored at the
    as-of date) and conversions without a dated span (undated), among the mature cohorts."""
    cutoff = ibis.timestamp(as_of - timedelta(days=mature_days))
    end = ibis.timestamp(as_of)
    mature = people.filter(people.created_at <= cutoff)
    parts = []
    for k, (a, b) in enumerate(pairs):
        start, stop = mature[f"at_{a}"], mature[f"at_{b}"]
        done = (stop.notnull() & (stop >= start)).fill_null(False)
        # not converted (yet): open people, and the disqualified, who never will (at risk, never an event)
        waiting = (mature.top < b).fill_null(True)
        spans = mature.filter(start.notnull() & (start <= end))
        kind = ibis.cases((done, "done"), (waiting, "waiting"), else_="undated")  # undated: converted, no span
        until = ibis.ifelse(done, spans[f"at_{b}"], end)
        days = ((until.epoch_seconds() - spans[f"at_{a}"].epoch_seconds()) / 86400.0).floor().cast("int64")
        parts.append(spans.select(k=ibis.literal(k), day=days, kind=_rebind(kind, mature, spans)))
    spans = ibis.union(*parts)
    return spans.group_by(["k", "day"]).aggregate(
        events=(spans.kind == "done").sum(), censored=(spans.kind == "waiting").sum(),
        undated=(spans.kind == "undated").sum())


def _rebind(value: ir.Value, source: ir.Table, target: ir.Table) -> ir.Value:
    """``value``, built on ``source``, on ``target`` (a filter of it)."""
    return value.op().replace({source.op(): target.op()}).to_expr()


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
                 as_of: datetime) -> list[dict[str, Any]]:
    """Rows of (k, created, n, age): people waiting in A (reached A, not B, not disqualified) per pair index
    ``k``, creation day and wait, with their mean whole days waited (since their dated entry into A, else
    since creation). Waits are counted per day up to 29 days, then in the groups of :data:`AGE_EDGES`: one
    small result serves every grouping of creation days (weeks, months, everyone)."""
    if not pairs:
        return []
    return fetch_rows(prepared(backend, ("projection.waiting", people.op(), as_of, tuple(pairs)),
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
    return ages.group_by(["k", "created", "group"]).aggregate(n=ages.count(), age=ages.days.mean())


def project(entered: int, converted: int, ages: Mapping[int, int], curve: Curve | MetricStatus) -> Projection:
    """A cohort's projection from its counts and its waiting people's ages (days -> people)."""
    waiting = sum(ages.values())
    if not entered:
        return Projection(0, 0, 0, 0.0, None, None, None, withheld("nobody entered"))
    if isinstance(curve, MetricStatus):
        return Projection(entered, converted, waiting, 0.0, None, None, None, curve)
    expected = var = low = high = 0.0
    for day, n in ages.items():
        f = curve.at(day)
        if f >= 1.0:
            continue
        p = max(0.0, (curve.plateau - f) / (1.0 - f))
        expected += n * p
        var += n * p * (1 - p)
        low += n * max(0.0, (curve.plateau_low - f) / (1.0 - f))
        high += n * min(1.0, max(0.0, (curve.plateau_high - f) / (1.0 - f)))
    spread = Z95 * math.sqrt(var)
    floor, ceiling = converted / entered, (converted + waiting) / entered
    rate = (converted + expected) / entered
    ci_low = max(floor, (converted + low - spread) / entered)
    ci_high = min(ceiling, (converted + high + spread) / entered)
    return Projection(entered, converted, waiting, expected, rate, min(ci_low, rate), max(ci_high, rate))


def by_group(rows: Sequence[Mapping[str, Any]], period: Callable[[date], Hashable]
             ) -> dict[tuple[int, Hashable], dict[int, int]]:
    """:func:`waiting_ages` rows as {(k, period(created)): {days waited: people}}."""
    out: dict[tuple[int, Hashable], dict[int, int]] = {}
    for r in rows:
        ages = out.setdefault((int(r["k"]), period(r["created"])), {})
        day = round(float(r["age"]))
        ages[day] = ages.get(day, 0) + int(r["n"])
    return out
