"""The playbook's quarterly tasks as rules: each quarter against the previous one or the baseline.

- Touchpoint inventory update: a touchpoint kind, touchpoint channel or lead source seen in
  the quarter and never in the baseline period's data (refinement trigger: update the map).
- Lead stage definition check: the share entering a stage without meeting its criteria
  (:class:`~leadjourney.analysis.definitions.DefinitionCheck`) rising vs the previous quarter,
  by more than ``drift_rise_points`` and beyond noise (pooled two-proportion z-test, Holm).
- Full journey audit: the naive or Kaplan-Meier median time in stage growing by more than
  ``stall_growth_factor`` vs the previous quarter (each side with at least ``min_n`` people).
- Channel performance review: each source's conversion at each transition vs the previous
  quarter (pooled two-proportion z-test, Holm-corrected across every source x transition).

Each quarter's figures are those of the people created in it, as of the run's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import ibis

from leadjourney.analysis.definitions import DefinitionCheck, DefinitionDrift
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.sources import Sources, SourceTransition, holm, two_proportion_z
from leadjourney.analysis.time_in_stage import StageTime, TimeInStage
from leadjourney.config import MonitorSettings
from leadjourney.display import days, percent
from leadjourney.monitor.periods import Period
from leadjourney.monitor.rules import OK, RED_FLAG, REENGAGE, RULES, TOO_SMALL, WATCH, Verdict
from leadjourney.workspace import Workspace

DIMENSIONS = ("touchpoint kind", "touchpoint channel", "lead source")


@dataclass
class Inventory:
    """How often each touchpoint kind and channel occurred, and each lead source brought people, in a window."""

    start: date | None
    end: date
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # dimension -> item -> count

    @property
    def label(self) -> str:
        return f"{self.start or 'the start'} to {self.end}"


@dataclass
class QuarterMetrics:
    period: Period
    inventory: Inventory
    drift: list[DefinitionDrift]
    stage_times: list[StageTime]
    conversion: list[SourceTransition]


def _now(as_of: date) -> datetime:
    return datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)


def inventory(journeys: Journeys, start: date | None, end: date) -> Inventory:
    """Kinds and channels of the touches that occurred in [start, end], sources of the people created then.

    ``journeys`` must be unfiltered (every person); the window is applied here.
    """
    hi = ibis.timestamp(_now(end))
    touches = journeys.touchpoints(_now(end))
    people = journeys.people()
    touches = touches.filter(touches.occurred_at < hi)
    people = people.filter(people.created_at < hi)
    if start is not None:
        lo = ibis.timestamp(datetime.combine(start, datetime.min.time()))
        touches = touches.filter(touches.occurred_at >= lo)
        people = people.filter(people.created_at >= lo)
    out = Inventory(start, end)
    for dim, table, col in (("touchpoint kind", touches, "kind"), ("touchpoint channel", touches, "channel"),
                            ("lead source", people, "source")):
        known = table.filter(table[col].notnull())
        rows = known.group_by(col).aggregate(n=known.count()).to_pyarrow().to_pylist()
        out.counts[dim] = {str(r[col]): int(r["n"]) for r in rows}
    return out


def quarter_metrics(ws: Workspace, period: Period, as_of: date) -> QuarterMetrics:
    """The quarterly figures of the people created in ``period``, as of the end of ``as_of``."""
    now = _now(as_of)
    with open_journeys(ws, None, now=now) as everyone:
        inv = inventory(everyone, period.start, period.end)
    with open_journeys(ws, Filters(period.start, period.end), now=now) as journeys:
        when = journeys.as_of()
        drift = DefinitionCheck(as_of=when).fit(journeys).drift
        times = TimeInStage(as_of=when).fit(journeys).rows
        conversion = Sources().fit(journeys).conversion
    return QuarterMetrics(period, inv, drift, times, conversion)


def baseline_inventory(ws: Workspace, base: Analysis, as_of: date) -> Inventory:
    """The inventory of the baseline's period (its filters' dates; no end date: the day it was computed)."""
    start = base.filters.date_from
    end = base.filters.date_to or datetime.fromisoformat(base.computed_at).date()
    with open_journeys(ws, None, now=_now(as_of)) as everyone:
        return inventory(everyone, start, end)


# ---------------------------------------------------------------------- rules


def new_item_verdicts(latest: QuarterMetrics, base: Inventory, s: MonitorSettings) -> list[Verdict]:
    """A kind, channel or source in the quarter (at least ``new_item_min_count`` times) absent from the baseline."""
    rule = RULES["new_channel"]
    out = []
    for dim in DIMENSIONS:
        known = base.counts.get(dim, {})
        for item, n in sorted(latest.inventory.counts.get(dim, {}).items()):
            if n < s.new_item_min_count or known.get(item, 0) > 0:
                continue
            unit = "people" if dim == "lead source" else "touches"
            out.append(Verdict("new_channel", f"{dim}: {item}", REENGAGE, float(n), 0.0, float(s.new_item_min_count), n,
                               f"{latest.period.label}: {n:,} {unit} with {dim} {item!r}; none in the baseline period "
                               f"({base.label}), which had {', '.join(sorted(known)) or 'none'}", rule.action))
    if not out:
        n = sum(sum(c.values()) for c in latest.inventory.counts.values())
        out.append(Verdict("new_channel", "inventory", OK, 0.0, 0.0, float(s.new_item_min_count), n,
                           f"{latest.period.label}: every touchpoint kind, channel and lead source was already in "
                           f"the baseline period ({base.label})", rule.action))
    return out


def drift_verdicts(latest: QuarterMetrics, previous: QuarterMetrics, s: MonitorSettings) -> list[Verdict]:
    """Per checked term: the drift share rising vs the previous quarter by more than the line, beyond noise."""
    rule = RULES["definition_drift"]
    before = {d.term: d for d in previous.drift}
    rows: list[tuple[DefinitionDrift, DefinitionDrift | None, float | None]] = []
    for d in latest.drift:
        p = before.get(d.term)
        small = p is None or d.n_judged < s.min_n or p.n_judged < s.min_n
        pv = None if small or p is None else two_proportion_z(d.n_failed, d.n_judged, p.n_failed, p.n_judged)[1]
        rows.append((d, p, pv))
    tested = [pv for _, _, pv in rows if pv is not None]
    adjusted = iter(holm(tested))
    out = []
    for d, p, pv in rows:
        prev_share = None if p is None else p.share
        line = None if prev_share is None else prev_share + s.drift_rise_points / 100
        head = (f"{latest.period.label}: {percent(d.share)} of {d.n_judged:,} entering {d.stage} did not meet the "
                f"criteria ({d.n_failed:,})")
        if p is None:
            out.append(Verdict("definition_drift", d.term, TOO_SMALL, d.share, None, None, d.n_judged,
                               head + "; the previous quarter has no such check", rule.action))
            continue
        prev = f"{previous.period.label}: {percent(p.share)} ({p.n_failed:,} of {p.n_judged:,})"
        if pv is None:
            out.append(Verdict("definition_drift", d.term, TOO_SMALL, d.share, prev_share, line, d.n_judged,
                               f"{head}; {prev}; too small to judge (n < {s.min_n} or too few expected)",
                               rule.action))
            continue
        p_adj = next(adjusted)
        rise = (d.share or 0.0) - (p.share or 0.0)
        status = RED_FLAG if rise * 100 > s.drift_rise_points and p_adj < s.alpha else OK
        worst = d.most_failed
        out.append(Verdict("definition_drift", d.term, status, d.share, prev_share, line, d.n_judged,
                           f"{head}; {prev}; rise {rise * 100:+.1f} points, Holm-adjusted p {p_adj:.3g} "
                           f"(alpha {s.alpha:g})" + (f"; most failed: {worst.criterion}" if worst else ""),
                           rule.action))
    return out


def stall_verdicts(latest: QuarterMetrics, previous: QuarterMetrics, s: MonitorSettings) -> list[Verdict]:
    """Per transition: the naive or Kaplan-Meier median time in stage grown by more than the factor."""
    rule = RULES["stage_stall"]
    before = {(r.from_stage, r.to_stage): r for r in previous.stage_times}
    out = []
    for r in latest.stage_times:
        name = f"{r.from_stage}->{r.to_stage}"
        p = before.get((r.from_stage, r.to_stage))
        if p is None:
            continue
        measures = [("Kaplan-Meier median", r.km_median_days, p.km_median_days, r.n_completed + r.n_censored,
                     p.n_completed + p.n_censored),
                    ("median of completed", r.median_days, p.median_days, r.n_completed, p.n_completed)]
        judged = [m for m in measures if m[1] is not None and m[2] is not None and m[2] > 0
                  and m[3] >= s.min_n and m[4] >= s.min_n]
        notes = [f"{label} {_days(now)} (n {n:,}) vs {_days(prev)} (n {pn:,}) in {previous.period.label}"
                 for label, now, prev, n, pn in measures]
        if not judged:
            out.append(Verdict("stage_stall", name, TOO_SMALL, r.km_median_days, p.km_median_days, None,
                               r.n_completed + r.n_censored,
                               f"{latest.period.label}: too small to judge (n < {s.min_n} or median not reached); "
                               + "; ".join(notes), rule.action))
            continue
        grown = [m for m in judged if m[1] > s.stall_growth_factor * m[2]]  # type: ignore[operator]
        label, now, prev, n, _ = (grown or judged)[0]
        assert now is not None and prev is not None
        out.append(Verdict("stage_stall", name, RED_FLAG if grown else OK, now, prev, s.stall_growth_factor * prev, n,
                           f"{latest.period.label}: {'; '.join(notes)}; line: x{s.stall_growth_factor:g} the previous "
                           f"quarter ({label})", rule.action))
    return out


def source_shift_verdicts(latest: QuarterMetrics, previous: QuarterMetrics, s: MonitorSettings) -> list[Verdict]:
    """Per source x transition: conversion vs the previous quarter, Holm-corrected across all pairs tested."""
    rule = RULES["source_shift"]
    before = {(r.source, r.transition): r for r in previous.conversion}
    pairs = []
    for r in latest.conversion:
        p = before.get((r.source, r.transition))
        if p is None or r.entered < s.min_n or p.entered < s.min_n:
            continue
        z, pv = two_proportion_z(r.converted, r.entered, p.converted, p.entered)
        if pv is not None:
            pairs.append((r, p, z, pv))
    adjusted = holm([pv for *_, pv in pairs])
    out = []
    for (r, p, z, pv), p_adj in zip(pairs, adjusted, strict=True):
        if p_adj >= s.alpha:
            continue
        out.append(Verdict("source_shift", f"{r.source} {r.transition}", RED_FLAG if z < 0 else WATCH, r.rate, p.rate,
                           s.alpha, r.entered,
                           f"{latest.period.label}: {percent(r.rate)} ({r.converted:,} of {r.entered:,}) vs "
                           f"{previous.period.label}: {percent(p.rate)} ({p.converted:,} of {p.entered:,}); z {z:.2f}, "
                           f"p {pv:.3g}, Holm-adjusted {p_adj:.3g} over {len(pairs)} source x transition pairs",
                           rule.action))
    if not out:
        out.append(Verdict("source_shift", "all sources", OK, None, None, s.alpha, len(pairs),
                           f"{latest.period.label} vs {previous.period.label}: no source's conversion shifted "
                           f"significantly ({len(pairs)} source x transition pairs tested with n >= {s.min_n}, Holm)",
                           rule.action))
    return out


def quarterly_verdicts(latest: QuarterMetrics, previous: QuarterMetrics, base: Inventory,
                       s: MonitorSettings) -> list[Verdict]:
    return [*new_item_verdicts(latest, base, s), *drift_verdicts(latest, previous, s),
            *stall_verdicts(latest, previous, s), *source_shift_verdicts(latest, previous, s)]



def _days(x: float | None) -> str:
    return "not reached" if x is None else days(x)
