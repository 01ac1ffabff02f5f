"""Conversion per transition by the week or month people were created: the drop-off trend.

One grouped query over :meth:`Journeys.wide` counts, per creation period, how many people
reached each stage (the funnel's ``stage_reach`` counting); each transition's rate and Wilson
interval then come from those counts exactly as the funnel's do. A period is *young* at a transition
when its last lead was created less than that transition's maturity (:mod:`leadjourney.analysis.maturity`)
before the data's end: its leads may still convert, so its rate is a floor, not a drop: it is marked
``young`` and carries its projected final
conversion (:mod:`leadjourney.analysis.projection`: the mature periods' time-to-convert curve applied
to the people still waiting), with an interval, drawn distinctly from observed rates.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import ibis.expr.types as ir

from leadjourney.analysis.funnel import people_with_top, required_top
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.maturity import Maturity, cohort_maturity
from leadjourney.analysis.projection import (
    Projection,
    Waiting,
    project,
    run_curves,
    selection_projections,
    waiting_by,
)
from leadjourney.analysis.rates import (
    StageCount,
    everyone_enters_first,
    transition_between,
    transition_dict,
    transition_fields,
)
from leadjourney.analysis.readback import build, moment
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.analysis.status import young as young_status
from leadjourney.engine import fetch_rows, prepared
from leadjourney.errors import OptionError
from leadjourney.tabular import Tabular

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
    young: bool  # created less than the transition's maturity before the data's end: may still convert
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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrendPoint:
        return build(cls, d, period=date.fromisoformat(d["period"]), **transition_fields(d))


@dataclass
class ConversionTrend(Tabular):
    """Per creation week or month, each consecutive transition's conversion with its 95% interval.

    >>> trend = ConversionTrend(period="month").fit(journeys)   # doctest: +SKIP
    >>> trend.points[0].rate                                     # doctest: +SKIP
    0.42
    """

    table_from = "points"  # to_arrow() / to_pandas(): one row per item

    period: str = "month"
    as_of: datetime | None = None
    maturity: dict[str, Maturity] = field(default_factory=dict)  # "From->To": days before a period is judged
    points: list[TrendPoint] = field(default_factory=list)
    projected: dict[str, Projection] = field(default_factory=dict)  # "From->To": the whole selection's

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise OptionError(f"trend period must be one of {', '.join(PERIODS)}, not {self.period!r}")

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
        self.maturity = maturity = cohort_maturity(journeys)
        points = []
        for row in rows:
            start = row["period"].date() if isinstance(row["period"], datetime) else row["period"]
            counts = [StageCount(s.name, s.lane, int(row[f"reached_{i}"] or 0), 0) for i, s in enumerate(stages)]
            if counts and not stages[0].optional:
                counts = everyone_enters_first(counts, int(row["n"]))
            for a, b in itertools.pairwise(counts):
                t = transition_between(a, b, min_n)
                need = maturity[f"{a.stage}->{b.stage}"]
                young = _period_end(start, self.period) + timedelta(days=need.days) > as_of
                status = (t.status if not t.status.judged else withheld(FUTURE) if start > as_of.date()
                          else young_status(f"still converting: created less than {need.days} days before the "
                                            f"data's end ({need.reason})") if young else t.status)
                points.append(TrendPoint(start, t.from_stage, t.to_stage, t.entered, t.converted, t.rate,
                                         t.ci_low, t.ci_high, young, status))
        self.points = self._projected(journeys, points, min_n)
        return self

    def _projected(self, journeys: Journeys, points: list[TrendPoint], min_n: int) -> list[TrendPoint]:
        """The young points with their projected final conversion, and the whole selection's projections."""
        stages = journeys.config.stages
        self.projected = {}
        if len(stages) < 2 or not points or self.as_of is None:
            return points
        people = people_with_top(journeys)
        curve, waiting = run_curves(journeys, people)
        ages = waiting_by(waiting, curve, self.period)
        names = [s.name for s in stages]
        out = []
        for p in points:
            k = names.index(p.from_stage)
            if p.young and p.status.shown:
                p = replace(p, projected=project(p.entered, p.converted, ages.get((k, p.period), Waiting()), curve[k]))
            out.append(p)
        counts = [(sum(p.entered for p in points if p.from_stage == a),
                   sum(p.converted for p in points if p.from_stage == a)) for a in names[:-1]]
        for (a, b), projection in zip(itertools.pairwise(names), selection_projections(journeys, people, counts),
                                      strict=True):
            self.projected[f"{a}->{b}"] = projection
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period,
                "maturity": {t: m.to_dict() for t, m in self.maturity.items()},
                "as_of": self.as_of.isoformat(timespec="seconds") if self.as_of else None,
                "points": [p.to_dict() for p in self.points],
                "projected": {t: p.to_dict() for t, p in self.projected.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConversionTrend:
        """The inverse of :meth:`to_dict`."""
        return cls(period=d.get("period", "month"), as_of=moment(d.get("as_of")),
                   maturity={t: Maturity.from_dict(m) for t, m in (d.get("maturity") or {}).items()},
                   points=[TrendPoint.from_dict(p) for p in d.get("points") or ()],
                   projected={t: Projection.from_dict(p) for t, p in (d.get("projected") or {}).items()})


def conversion_trend(journeys: Journeys, period: str = "month") -> list[TrendPoint]:
    """The trend's points: ``ConversionTrend(period).fit(journeys).points``."""
    return ConversionTrend(period=period).fit(journeys).points


def _period_end(start: date, period: str) -> datetime:
    """The first instant after the period that starts on ``start``."""
    if period == "week":
        end = start + timedelta(days=7)
    else:
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return datetime.combine(end, datetime.min.time())
