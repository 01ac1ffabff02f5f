"""The recommendation impact check, after the first business cycle (playbook: 60-90 days post-launch).

``leadjourney monitor implemented REC_ID --on DATE`` records that a recommendation went live, with the
metric it should move (from out/recommendations.json). Once ``impact_cycle_days`` have passed, each run
compares that metric for the people created in the window before the date and in as long a window
after it (ending early enough for the transition's leads to have matured): pooled two-proportion
z-test, and the verdict says moved, did not move, or too small to judge. Before then: an info verdict
with the date the check runs. Conversion metrics (``conversion_rate:From->To[:source=S]``) and the
never-contacted share are tested; the median speed-to-lead is shown before and after, untested;
other metrics say to compare them by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from leadjourney.analysis.funnel import Funnel
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.sources import two_proportion_z
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.config import MonitorSettings
from leadjourney.display import minutes
from leadjourney.errors import LeadJourneyError
from leadjourney.monitor.periods import transition_maturity
from leadjourney.monitor.rules import INFO, OK, RULES, TOO_SMALL, WATCH, Verdict
from leadjourney.workspace import Workspace


@dataclass(frozen=True)
class Implementation:
    rec_id: str
    implemented_on: date
    metric_key: str
    direction: str  # "up" or "down": which way is better
    title: str


def mark_implemented(ws: Workspace, rec_id: str, on: date, note: str | None = None) -> Implementation:
    """Record that recommendation ``rec_id`` (as in out/recommendations.json) went live on ``on``."""
    path = ws.out_dir / "recommendations.json"
    if not path.exists():
        raise LeadJourneyError(f"{path} not found; run `leadjourney recommend {ws.root}` first")
    recs = {r["id"]: r for r in json.loads(path.read_text("utf-8"))["recommendations"]}
    if rec_id not in recs:
        raise LeadJourneyError(f"no recommendation {rec_id!r} in {path.name}; one of: {', '.join(sorted(recs))}")
    metric = recs[rec_id]["impact"]["metric"]
    imp = Implementation(rec_id, on, metric["key"], metric.get("direction", "up"), recs[rec_id]["title"])
    ws.ensure_database()
    with ws.connect() as con:
        con.execute("INSERT OR REPLACE INTO recommendation_implementations VALUES (?, ?, ?, ?, ?, ?, ?)", [
            imp.rec_id, imp.implemented_on, imp.metric_key, imp.direction, imp.title, note,
            datetime.now(UTC).replace(tzinfo=None)])
    return imp


def implementations(ws: Workspace) -> list[Implementation]:
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT rec_id, implemented_on, metric_key, direction, title "
                           "FROM recommendation_implementations ORDER BY implemented_on, rec_id").fetchall()
    return [Implementation(*r) for r in rows]


def _rate(ws: Workspace, transition: str, source: str | None, lo: date, hi: date, as_of: date) -> tuple[int, int]:
    now = datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    filters = Filters(lo, hi, sources=(source,) if source else ())
    with open_journeys(ws, filters, now=now) as journeys:
        funnel = Funnel(mode="stage_reach", project=False).fit(journeys)  # judged only once mature
    for t in funnel.transitions:
        if f"{t.from_stage}->{t.to_stage}" == transition:
            return t.entered, t.converted
    return 0, 0


def impact_verdict(ws: Workspace, imp: Implementation, base: Analysis, as_of: date,
                   s: MonitorSettings) -> Verdict:
    """The impact check of one implemented recommendation, as of ``as_of``."""
    rule, metric = RULES["recommendation_impact"], imp.rec_id
    due = imp.implemented_on + timedelta(days=s.impact_cycle_days)
    head = f"{imp.title} (implemented {imp.implemented_on}; should move {imp.metric_key}, {imp.direction})"
    if as_of < due:
        return Verdict("recommendation_impact", metric, INFO, None, None, None, None,
                       f"{head}: the impact check runs from {due}, {s.impact_cycle_days} days after ({(due - as_of).days}"
                       " days to go)", rule.action)
    parts = imp.metric_key.split(":")
    if parts[0] == "conversion_rate" and len(parts) in (2, 3):
        days, why = transition_maturity(ws, base, [parts[1]], s.maturity_days, s.maturity_quantile)[parts[1]]
    elif imp.metric_key in SPEED_KEYS:
        days, why = s.maturity_days, f"at least {s.maturity_days} days"
    else:
        return Verdict("recommendation_impact", metric, TOO_SMALL, None, None, None, None,
                       f"{head}: {imp.metric_key} has no before/after check; compare it by hand "
                       "(`leadjourney analyze --from/--to`)", rule.action)
    after_end = min(due, as_of - timedelta(days=days)) - timedelta(days=1)
    length = (after_end - imp.implemented_on).days + 1
    if length < 7:
        return Verdict("recommendation_impact", metric, TOO_SMALL, None, None, None, None,
                       f"{head}: the leads created since have not had {days} days yet ({why})", rule.action)
    before_lo, before_hi = imp.implemented_on - timedelta(days=length), imp.implemented_on - timedelta(days=1)
    n1, k1, label = _measure(ws, imp.metric_key, imp.implemented_on, after_end, as_of)
    n0, k0, _ = _measure(ws, imp.metric_key, before_lo, before_hi, as_of)
    if imp.metric_key == MEDIAN_KEY:  # a median: the numbers, no test
        return Verdict("recommendation_impact", metric, INFO, None, None, None, int(n1),
                       f"{head}: {label}: created {before_lo} to {before_hi}: {minutes(k0)} (n {int(n0):,}); "
                       f"created {imp.implemented_on} to {after_end}: {minutes(k1)} (n {int(n1):,}); medians are "
                       "not tested here: read the speed-to-lead distribution in `leadjourney analyze --from/--to`",
                       rule.action)
    e0, c0, e1, c1 = int(n0), int(k0 or 0), int(n1), int(k1 or 0)
    windows = (f"{label}: created {before_lo} to {before_hi}: {_pct(c0, e0)} ({c0:,} of {e0:,}); "
               f"created {imp.implemented_on} to {after_end}: {_pct(c1, e1)} ({c1:,} of {e1:,})")
    r0, r1 = (c0 / e0 if e0 else None), (c1 / e1 if e1 else None)
    if e0 < s.min_n or e1 < s.min_n:
        return Verdict("recommendation_impact", metric, TOO_SMALL, r1, r0, None, e1,
                       f"{head}: {windows}; too small to judge (n < {s.min_n})", rule.action)
    z, p = two_proportion_z(c1, e1, c0, e0)
    better = z > 0 if imp.direction == "up" else z < 0
    if p is not None and p < s.alpha and better:
        status, word = OK, "moved"
    else:
        status, word = WATCH, "did not move" if p is None or p >= s.alpha else "moved the wrong way"
    test = "too few to test" if p is None else f"z {z:.2f}, p {p:.3g} (alpha {s.alpha:g})"
    return Verdict("recommendation_impact", metric, status, r1, r0, None, e1,
                   f"{head}: {word}. {windows}; {test}; leads judged once they had {why}", rule.action)


SHARE_KEY, MEDIAN_KEY = "speed_to_lead:never_contacted_share", "speed_to_lead:median_minutes"
SPEED_KEYS = (SHARE_KEY, MEDIAN_KEY)


def _measure(ws: Workspace, key: str, lo: date, hi: date, as_of: date) -> tuple[float, float | None, str]:
    """(n, converted / never contacted / median minutes, label) of the people created in [lo, hi]."""
    parts = key.split(":")
    if parts[0] == "conversion_rate":
        source = parts[2].removeprefix("source=") if len(parts) == 3 else None
        entered, converted = _rate(ws, parts[1], source, lo, hi, as_of)
        return entered, converted, parts[1] + (f" ({source} leads)" if source else "")
    now = datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    with open_journeys(ws, Filters(lo, hi), now=now) as journeys:
        speed = SpeedToLead(as_of=journeys.as_of()).fit(journeys)
    if key == SHARE_KEY:
        return speed.n_judged, speed.n_never_contacted, "never contacted by a person"
    return speed.n_contacted, speed.median_minutes, "median minutes to the first human touch"


def impact_verdicts(ws: Workspace, base: Analysis, as_of: date, s: MonitorSettings) -> list[Verdict]:
    return [impact_verdict(ws, imp, base, as_of, s) for imp in implementations(ws)]


def _pct(k: int, n: int) -> str:
    return "-" if not n else f"{k / n:.1%}"
