"""Headline figures (people per stage, pipeline, bookings) and their change against another period.

Each figure is read from an :class:`~leadjourney.analysis.report.Analysis` where it is counted once: a stage's
people from the funnel (``reached``), pipeline from :class:`~leadjourney.analysis.pipeline.Pipeline`, bookings
from the friction's won amount. A change compares the figure per day of each period (the previous period of
the same length compares the figures themselves) and is judged only when

* both periods have a figure (else ``withheld``, saying which is missing),
* both have at least ``min_n`` people (stages) or deals (money) behind it (else ``too_few``), and
* a count's change is beyond its Poisson noise (else judged, but ``within_noise``: no arrow colour), and
* the figure is final: no transition up to the stage (any, for money) is still converting in the current
  period (else ``young``: a younger cohort has had less time to reach the stage or close its deals).

>>> Change("previous period", 120, 100, 100, 100, OK).ratio
0.2
>>> Change("baseline", 50, None, 50, 0, withheld("no baseline snapshot")).status.text()
'withheld: no baseline snapshot'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from leadjourney.analysis.rates import Transition
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.status import OK, MetricStatus, Status, too_few, withheld, young

NOISE_Z = 1.96  # a count's change within this many Poisson standard deviations of the other's is noise
FLAT = 0.005  # a change smaller than half a percent reads as flat
PREVIOUS, BASELINE = "previous period", "baseline"


@dataclass(frozen=True)
class Change:
    """A figure now against another period's, that one scaled to the current period's length."""

    against: str  # PREVIOUS or BASELINE
    value: float | None  # the figure now
    before: float | None  # the other period's figure per the current period's days (None: not comparable)
    n: int  # people (stages) or deals (money) behind the figure now
    n_before: int  # ... and behind the other period's
    status: MetricStatus = OK
    within_noise: bool = False  # a count's change within its Poisson noise (95%): judged, but no real change

    @property
    def ratio(self) -> float | None:
        """(now - before) / before; None without both figures or with nothing before."""
        if self.value is None or self.before is None or self.before == 0:
            return None
        return round(self.value / self.before - 1, 12)

    @property
    def direction(self) -> str:
        """"up", "down" or "flat" (within :data:`FLAT`); "" without a ratio."""
        r = self.ratio
        return "" if r is None else "flat" if abs(r) < FLAT else "up" if r > 0 else "down"


@dataclass(frozen=True)
class Tile:
    """One headline figure: ``key`` ("stage:MQL", "pipeline", "bookings"), ``name`` (a stage, or the figure's
    name), ``kind`` ("count" or "money"), the value (None when ``status`` withholds it), ``n`` (people or
    deals behind it), ``rate`` (a stage's conversion from the stage before) and the changes."""

    key: str
    name: str
    kind: str
    value: float | None
    n: int
    status: MetricStatus
    changes: tuple[Change, ...]
    rate: Transition | None = None
    currency: str = ""


def period_days(a: Analysis) -> float | None:
    """The days an analysis' leads were created over: its date range when it has both ends, else the span of
    its leads' creation dates (None when unknown)."""
    f = a.filters
    if f.date_from is not None and f.date_to is not None:
        return float((f.date_to - f.date_from).days + 1)
    days = a.friction.span_days
    return days if days > 0 else None


def figures(a: Analysis) -> list[tuple[str, str, str, float | None, int, MetricStatus]]:
    """(key, name, kind, value, n, status) of each headline figure of ``a``."""
    out: list[tuple[str, str, str, float | None, int, MetricStatus]] = [
        (f"stage:{s.stage}", s.stage, "count", float(s.reached), s.reached, OK) for s in a.funnel.stages]
    p = a.pipeline
    out.append(("pipeline", "Pipeline", "money", p.open_amount if p.status.shown else None, p.open_deals, p.status))
    fr = a.friction
    won = fr.won_amount if fr.deal_size_n else 0.0
    out.append(("bookings", "Bookings", "money", won, fr.deal_size_n, OK))
    return out


def still_converting(transitions: Sequence[Transition], upto: int | None) -> MetricStatus | None:
    """``young`` when a transition before index ``upto`` (all of them: None) is still converting, naming it."""
    for t in transitions[:upto]:
        if t.status.status is Status.YOUNG:
            waiting = "" if t.projected is None else f", {t.projected.waiting:,} of {t.entered:,} still waiting"
            return young(f"{t.from_stage}→{t.to_stage} still converting{waiting}")
    return None


def tiles(now: Analysis, previous: Analysis | None, baseline: Analysis | None, *, min_n: int,
          no_previous: str, no_baseline: str) -> list[Tile]:
    """The headline tiles of ``now`` with their change against ``previous`` (the period of the same length just
    before) and ``baseline``; ``no_previous`` / ``no_baseline``: why a side is missing when it is None."""
    days = period_days(now)
    others = [(PREVIOUS, previous, no_previous), (BASELINE, baseline, no_baseline)]
    before = {label: ({key: (value, n, status) for key, _, _, value, n, status in figures(other)},
                      period_days(other)) if other is not None else None for label, other, _ in others}
    rates = {t.to_stage: t for t in now.funnel.transitions}
    out = []
    for i, (key, name, kind, value, n, status) in enumerate(figures(now)):
        stage_index = i if key.startswith("stage:") else None
        unit = "people" if kind == "count" else "deals"
        changes = []
        for label, _, missing in others:
            side = before[label]
            converting = still_converting(now.funnel.transitions, stage_index)
            changes.append(Change(label, value, None, n, 0, withheld(missing)) if side is None else
                           _judge(label, value, n, status, side[0].get(key), side[1], days, unit, min_n, converting))
        out.append(Tile(key, name, kind, value if status.shown else None, n, status, tuple(changes),
                        rates.get(name) if stage_index else None, now.friction.currency))
    return out


def _judge(label: str, value: float | None, n: int, status: MetricStatus,
           found: tuple[float | None, int, MetricStatus] | None, other_days: float | None, days: float | None,
           unit: str, min_n: int, converting: MetricStatus | None) -> Change:
    """One tile's change against one side's figure (``found``: value, n, status), by the module's rule."""
    if not status.shown:
        return Change(label, None, None, n, 0, status)
    if found is None:
        return Change(label, value, None, n, 0, withheld(f"the {label} has no such figure"))
    other, other_n, other_status = found
    if not other_status.shown or other is None:
        return Change(label, value, None, n, other_n, withheld(f"the {label}'s figure: {other_status.reason}"))
    if days is None or other_days is None:
        return Change(label, value, None, n, other_n, withheld(f"the length of the {label if days else 'period'} "
                                                              "is unknown"))
    scaled = other * days / other_days
    if n < min_n:
        return Change(label, value, scaled, n, other_n, too_few(n, min_n, unit))
    if other_n < min_n:
        return Change(label, value, scaled, n, other_n, too_few(other_n, min_n, f"{unit} in the {label}"))
    if converting is not None:
        return Change(label, value, scaled, n, other_n, converting)
    noise = unit == "people" and value is not None and abs(value - scaled) <= NOISE_Z * math.sqrt(max(scaled, 1.0))
    return Change(label, value, scaled, n, other_n, OK, noise)
