"""Period windows (month, quarter) and the metrics the monitor reads for each.

A period is judged once its leads have had ``maturity_days`` to move through the
funnel: as of a date, the periods are the latest complete ones ending at least that
long before it. A conversion is judged later when the baseline says its leads need
longer (:func:`transition_maturity`). Metrics come from the analysis engine on the
period's cohort (people created in the window): the funnel transitions and speed-to-lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from leadjourney.analysis import maturity
from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.status import OK, MetricStatus
from leadjourney.errors import OptionError
from leadjourney.workspace import Workspace

PERIODS = ("month", "quarter")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def previous(self) -> Period:
        return period_ending(self.kind, self.start - timedelta(days=1))


@dataclass(frozen=True)
class Rate:
    entered: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None


@dataclass(frozen=True)
class PeriodMetrics:
    period: Period
    n_people: int
    transitions: dict[str, Rate]  # "From->To" -> counts
    speed_mean_minutes: float | None
    speed_n: int
    speed_status: MetricStatus = OK  # withheld when the workspace lacks what speed-to-lead reads
    stages_without_data: tuple[str, ...] = ()  # configured stages nothing was loaded for


def check_period(kind: str) -> str:
    """``kind`` when it is a period the monitor judges (month or quarter), else OptionError."""
    if kind not in PERIODS:
        raise OptionError(f"period: expected month or quarter, found {kind!r}")
    return kind


def period_ending(kind: str, day: date) -> Period:
    """The month or quarter containing ``day``."""
    check_period(kind)
    first_month = day.month if kind == "month" else (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    months = 1 if kind == "month" else 3
    y, m = divmod(start.month - 1 + months, 12)
    end = date(start.year + y, m + 1, 1) - timedelta(days=1)
    return Period(kind, start, end)


def judged_periods(kind: str, as_of: date, count: int, maturity_days: int) -> list[Period]:
    """The ``count`` latest complete periods that ended at least ``maturity_days`` before ``as_of``, oldest first."""
    cutoff = as_of - timedelta(days=maturity_days)
    latest = period_ending(kind, cutoff)
    if latest.end > cutoff:
        latest = latest.previous()
    out = [latest]
    while len(out) < count:
        out.append(out[-1].previous())
    return out[::-1]


def transition_maturity(ws: Workspace, base: Analysis, transitions: Sequence[str], floor: int,
                        quantile: float) -> dict[str, tuple[int, str]]:
    """Days a creation cohort needs before each transition is judged, and why: the analysis' one rule
    (:mod:`leadjourney.analysis.maturity`) with the baseline's people as the reference."""
    with open_journeys(ws, Filters(base.filters.date_from, base.filters.date_to)) as journeys:
        names = journeys.config.stage_names  # a stage without data has no entries to time
        targets = {t: (t.split("->")[1], names.index(t.split("->")[1])) for t in transitions
                   if t.split("->")[1] in names}
        found = maturity.transition_maturity(journeys.wide(), targets, floor, quantile)
    out = {t: found.get(t, maturity.floor_only(floor)) for t in transitions}
    return {t: (m.days, m.reason) for t, m in out.items()}


def period_metrics(ws: Workspace, period: Period, as_of: date, speed: bool = True) -> PeriodMetrics:
    """Funnel transitions and (unless ``speed`` is false) speed-to-lead of the people created in ``period``,
    as of the end of ``as_of``."""
    now = datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    with open_journeys(ws, Filters(period.start, period.end), now=now) as journeys:
        funnel = Funnel(mode="stage_reach", project=False).fit(journeys)  # judged only once mature
        stl = SpeedToLead(as_of=journeys.as_of()).fit(journeys) if speed else None
    rates = {f"{t.from_stage}->{t.to_stage}": Rate(t.entered, t.converted) for t in funnel.transitions}
    return PeriodMetrics(period, funnel.n_people, rates, stl.mean_minutes if stl else None, stl.n_judged if stl else 0,
                         stl.status if stl else OK, funnel.stages_without_data)
