"""Conversion per transition by the week or month people were created: the drop-off trend.

One grouped query over :meth:`Journeys.wide` counts, per creation period, how many people
reached each stage (the funnel's ``stage_reach`` counting); each transition's rate and Wilson
interval then come from those counts exactly as the funnel's do. A period is *young* when its
last lead was created less than ``mature_days`` before the data's end: its leads may still
convert, so its rate is a floor, not a drop: it is marked ``young`` and carries its projected final
conversion (:mod:`leadjourney.analysis.projection`: the mature periods' time-to-convert curve applied
to the people still waiting), with an interval, drawn distinctly from observed rates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import ibis.expr.types as ir

from leadjourney.analysis.funnel import (
    StageCount,
    required_top,
    transition_between,
    transition_dict,
)
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.projection import (
    Projection,
    Waiting,
    curves,
    project,
    waiting_ages,
    waiting_by,
)
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.analysis.status import young as young_status
from leadjourney.engine import fetch_rows, prepared

PERIODS = {"week": "W", "month": "M"}
FUTURE = "created after the data's end: future dates (see the quality report)"


@dataclass(frozen=True)
class TrendPoint:
    """One transition's conversion among the people created in one period (starting ``period``)."""

    period: date
    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    young: bool  # created less than ``mature_days`` before the data's end: may still convert
    status: MetricStatus = OK  # young: still converting; too few people (min_n)
    projected: Projection | None = None  # young periods: the projected final conversion

    @property
    def dropped(self) -> int:
        return self.entered - self.converted

    def to_dict(self) -> dict[str, Any]:
        out = transition_dict(self)
        out["period"] = self.period.isoformat()
        out["projected"] = self.projected.to_dict() if self.projected is not None else None
        return out


@dataclass
class ConversionTrend:
    """Per creation week or month, each consecutive transition's conversion with its 95% interval.

    >>> trend = ConversionTrend(period="month").fit(journeys)   # doctest: +SKIP
    >>> trend.points[0].rate                                     # doctest: +SKIP
    0.42
    """

    period: str = "month"
    mature_days: int = 90  # a period is judged once its last lead is this old (the funnel's cohort window)
    as_of: datetime | None = None
    points: list[TrendPoint] = field(default_factory=list)
    projected: dict[str, Projection] = field(default_factory=dict)  # "From->To": the whole selection's

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"trend period must be one of {', '.join(PERIODS)}, not {self.period!r}")

    def fit(self, journeys: Journeys) -> ConversionTrend:
        stages = journeys.config.stages
        required = [i for i, s in enumerate(stages) if not s.optional]
        wide = journeys.wide()

        def by_day() -> ir.Table:  # the counts per creation day, which both periods add up
            dated = wide.filter(wide.created_at.notnull())  # an undated lead has no creation period
            people = dated.mutate(top=required_top(dated, required), day=dated.created_at.truncate("D"))
            aggregates: dict[str, Any] = {"n": people.count()}
            for i, stage in enumerate(stages):
                reached = people[f"has_{i}"].fill_null(False) if stage.optional else people.top >= i
                aggregates[f"reached_{i}"] = reached.sum()
            return people.group_by("day").aggregate(**aggregates)

        days = journeys.cached(("trend by day", tuple(stages)), lambda: prepared(
            journeys.backend, ("trend by day", wide.op(), tuple(stages)), by_day))
        columns = ["n", *[f"reached_{i}" for i in range(len(stages))]]
        rows = fetch_rows(prepared(journeys.backend, ("trend", days.op(), self.period, tuple(columns)), lambda: (
            days.group_by(period=days.day.truncate(PERIODS[self.period]))
            .aggregate(**{c: days[c].sum() for c in columns}).order_by("period"))))
        self.as_of = as_of = journeys.as_of()
        min_n = journeys.config.min_n
        young_days = f"created less than {self.mature_days} days before the data's end: still converting"
        points = []
        for row in rows:
            start = row["period"].date() if isinstance(row["period"], datetime) else row["period"]
            young = _period_end(start, self.period) + timedelta(days=self.mature_days) > as_of
            counts = [StageCount(s.name, s.lane, int(row[f"reached_{i}"] or 0), 0) for i, s in enumerate(stages)]
            if counts and not stages[0].optional:  # every person is a lead: the funnel's first-stage rule
                counts[0] = StageCount(counts[0].stage, counts[0].lane, int(row["n"]), 0)
            for a, b in itertools.pairwise(counts):
                t = transition_between(a, b, min_n)
                status = (t.status if not t.status.judged else withheld(FUTURE) if start > as_of.date()
                          else young_status(young_days) if young else t.status)
                points.append(TrendPoint(start, t.from_stage, t.to_stage, t.entered, t.converted, t.rate,
                                         t.ci_low, t.ci_high, young, status))
        self.points = self._projected(journeys, points, min_n)
        return self

    def _projected(self, journeys: Journeys, points: list[TrendPoint], min_n: int) -> list[TrendPoint]:
        """The young points with their projected final conversion, and the whole selection's projections."""
        stages = journeys.config.stages
        pairs = list(itertools.pairwise(range(len(stages))))
        self.projected = {}
        if not pairs or not points or self.as_of is None:
            return points
        wide = journeys.wide()
        required = [i for i, s in enumerate(stages) if not s.optional]
        people = wide.mutate(top=required_top(wide, required))
        as_of, mature = self.as_of, self.mature_days
        curve = journeys.remembered(("curves", as_of, mature, tuple(pairs), min_n),  # the same for weeks and months
                                    lambda: curves(journeys.backend, people, pairs, as_of, mature, min_n))
        waiting = journeys.remembered(("waiting", as_of, tuple(pairs)),  # one query for weeks and months
                                      lambda: waiting_ages(journeys.backend, people, pairs, as_of))
        ages = waiting_by(waiting, curve, self.period)
        names = [s.name for s in stages]
        out = []
        for p in points:
            k = names.index(p.from_stage)
            if p.young and p.status.shown:
                p = replace(p, projected=project(p.entered, p.converted, ages.get((k, p.period), Waiting()), curve[k]))
            out.append(p)
        everyone = waiting_by(waiting, curve, None)
        for k, (a, b) in enumerate(pairs):
            mine = [p for p in points if p.from_stage == names[a]]
            self.projected[f"{names[a]}->{names[b]}"] = project(
                sum(p.entered for p in mine), sum(p.converted for p in mine), everyone.get((k, None), Waiting()),
                curve[k])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "mature_days": self.mature_days,
                "as_of": self.as_of.isoformat(timespec="seconds") if self.as_of else None,
                "points": [p.to_dict() for p in self.points],
                "projected": {t: p.to_dict() for t, p in self.projected.items()}}


def conversion_trend(journeys: Journeys, period: str = "month", mature_days: int = 90) -> list[TrendPoint]:
    """The trend's points: ``ConversionTrend(period, mature_days).fit(journeys).points``."""
    return ConversionTrend(period=period, mature_days=mature_days).fit(journeys).points


def _period_end(start: date, period: str) -> datetime:
    """The first instant after the period that starts on ``start``."""
    if period == "week":
        end = start + timedelta(days=7)
    else:
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return datetime.combine(end, datetime.min.time())
