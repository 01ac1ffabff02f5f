"""Data health beyond freshness: stage timestamps going missing at a rising rate.

The quality layer counts stage events without a date (``missing_stage_timestamps``); a CRM
always has a few. What the monitor watches is the rate rising: of the stage entries after the
first stage of the people created in a period, the share that has no date, in the latest period
against the ``undated_reference_periods`` before it (pooled two-proportion z-test, one-sided).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis

from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.sources import two_proportion_z
from leadjourney.config import MonitorSettings
from leadjourney.display import percent
from leadjourney.monitor.periods import Period
from leadjourney.monitor.rules import OK, RED_FLAG, RULES, TOO_SMALL, Verdict
from leadjourney.workspace import Workspace

METRIC = "undated_stage_share"


@dataclass(frozen=True)
class Undated:
    period: Period
    entries: int  # stage entries after the first stage, of the people created in the period
    undated: int  # ... of which without any date

    @property
    def share(self) -> float | None:
        return self.undated / self.entries if self.entries else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def undated_stages(ws: Workspace, periods: Sequence[Period], as_of: date) -> list[Undated]:
    """Per period (oldest first), the stage entries after the first stage and those without a date; one query."""
    ordered = sorted(periods, key=lambda p: p.start)
    now = _midnight(as_of) + timedelta(days=1)
    with open_journeys(ws, Filters(ordered[0].start, ordered[-1].end), now=now) as journeys:
        entries = journeys.entries()
        entries = entries.filter(entries.idx > 0)
        people = journeys.people().select("person_id", "created_at")
        x = entries.join(people, "person_id")
        bucket = ibis.cases(*[((x.created_at >= ibis.timestamp(_midnight(p.start)))
                               & (x.created_at < ibis.timestamp(_midnight(p.end + timedelta(days=1)))), i)
                              for i, p in enumerate(ordered)], else_=ibis.null("int64"))
        x = x.mutate(bucket=bucket)
        rows = (x.group_by("bucket").aggregate(n=x.count(), undated=x.entered_at.isnull().sum())
                .to_pyarrow().to_pylist())
    counts = {r["bucket"]: (int(r["n"]), int(r["undated"] or 0)) for r in rows if r["bucket"] is not None}
    return [Undated(p, *counts.get(i, (0, 0))) for i, p in enumerate(ordered)]


def undated_verdict(rows: Sequence[Undated], s: MonitorSettings) -> Verdict:
    """The latest period's undated share against the pooled earlier ones: a red flag when it rose by more
    than ``undated_rise_points`` and significantly (one-sided, ``alpha``)."""
    *earlier, latest = rows
    ref_n, ref_k = sum(r.entries for r in earlier), sum(r.undated for r in earlier)
    ref = ref_k / ref_n if ref_n else None
    line = None if ref is None else ref + s.undated_rise_points / 100
    action = RULES["data_health"].action
    labels = f"{earlier[0].period.label} to {earlier[-1].period.label}" if earlier else "-"
    head = (f"{latest.period.label}: {percent(latest.share)} of {latest.entries:,} stage entries after the first stage "
            f"have no date ({latest.undated:,}); {labels}: {percent(ref)} ({ref_k:,} of {ref_n:,})")
    if latest.entries < s.min_n or ref_n < s.min_n:
        return Verdict("data_health", METRIC, TOO_SMALL, latest.share, ref, line, latest.entries,
                       f"{head}; too small to judge (n < {s.min_n})", action)
    z, p = two_proportion_z(latest.undated, latest.entries, ref_k, ref_n)
    assert latest.share is not None and ref is not None
    rise = latest.share - ref
    if p is None:
        one_sided = None
        test = "too few undated entries to test"
    else:
        one_sided = p / 2 if z > 0 else 1 - p / 2
        test = f"z {z:.2f}, one-sided p {one_sided:.3g} (alpha {s.alpha:g})"
    raised = one_sided is not None and one_sided < s.alpha and rise * 100 > s.undated_rise_points
    return Verdict("data_health", METRIC, RED_FLAG if raised else OK, latest.share, ref, line, latest.entries,
                   f"{head}; rise {rise * 100:+.1f} points, line +{s.undated_rise_points:g}; {test}. Undated stages "
                   "drop out of time-in-stage and speed figures: find the export or workflow that stopped setting "
                   "the date (`leadjourney quality` lists the leads)", action)
