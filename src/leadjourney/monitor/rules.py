"""The maintenance schedule's rules as data, and their evaluation over period metrics vs the baseline.

Thresholds are the workspace's ``[monitor]`` settings (defaults from the playbook, which
``reports.maintenance`` also writes out). A decline counts only when it is larger than the
period's noise: the baseline rate lies above the period's Wilson 95% interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from leadjourney.analysis.rates import Transition, below_baseline
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.config import MonitorSettings
from leadjourney.display import percent
from leadjourney.monitor.periods import PeriodMetrics

OK, WATCH, TOO_SMALL, CANNOT, RED_FLAG, REENGAGE, REMINDER, INFO = (
    "ok", "watch", "too_small", "cannot_compute", "red_flag", "refinement_trigger", "reminder", "info")
WITHHELD = "withheld"  # the metric's inputs are missing from the workspace (analysis.status): said, not raised
SEVERITY = {OK: 0, INFO: 0, TOO_SMALL: 0, WITHHELD: 0, WATCH: 1, REMINDER: 1, CANNOT: 2, RED_FLAG: 2, REENGAGE: 3}
RAISED = (CANNOT, RED_FLAG, REENGAGE)  # the statuses that make a run unhealthy (exit 1)
NOTIFIED = (*RAISED, REMINDER)  # the statuses an alert announces (once, deduplicated)
RATE_RULES = ("conversion_decline", "conversion_reengage", "definition_drift", "source_shift",
              "recommendation_impact")
RATE_METRICS = ("undated_stage_share",)  # rates under rules whose other metrics are not


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    threshold: str
    action: str  # the playbook's "action if off-track" / response


RULES: dict[str, Rule] = {r.key: r for r in (
    Rule("conversion_decline", "Conversion rate review",
         ">{decline:g} percentage point decline from baseline for {periods}+ periods",
         "Investigate the transition's new friction points; compare sources and owners for the period."),
    Rule("conversion_reengage", "Refinement trigger: conversion rate decline",
         ">{reengage:g} percentage point drop from post-project baseline",
         "Re-engage SME — investigate new friction points"),
    Rule("speed_to_lead", "Speed-to-lead check",
         ">{minutes:g} minutes average (benchmark: 5 minutes is optimal)",
         "Check routing and the speed-to-lead alert for new MQLs; response time should return under the line."),
    Rule("data_health", "Dashboard health check",
         "Any metric showing stale data or errors",
         "Re-run the exports and `leadjourney ingest`; fix the broken source before reading the numbers."),
    Rule("new_channel", "Touchpoint inventory update (refinement trigger: new inbound channel)",
         "Any new touchpoint kind, channel or lead source ({new_item_min_count}+ in the quarter) absent "
         "from the baseline period",
         "Update journey map touchpoint inventory: add to journey map, assess impact on conversions; "
         "update the MAP if it is a new channel."),
    Rule("definition_drift", "Lead stage definition check",
         ">{drift_rise_points:g} percentage point rise in definition drift vs the prior quarter (beyond noise)",
         "Update definitions, retrain teams if drift detected."),
    Rule("stage_stall", "Full journey audit: time in stage",
         "Median or Kaplan-Meier median time in stage up more than x{stall_growth_factor:g} vs the prior quarter",
         "Re-check the stage transition for new friction points; update journey map, re-rank friction points."),
    Rule("source_shift", "Channel performance review",
         "Lead source conversion vs the prior quarter, significant after Holm correction (alpha {alpha:g})",
         "Adjust channel strategy, update MAP if new channels."),
    Rule("recommendation_impact", "Recommendation impact check",
         "{impact_cycle_days} days after implementation: the metric it should move, the leads created before vs "
         "after (alpha {alpha:g})",
         "Did the quick win produce measurable improvement? If not, investigate whether the root cause "
         "hypothesis was correct."),
    Rule("refinement_checkin", "Refinement check-in",
         "{checkin_days} days after the baseline, reminder {checkin_reminder_days} days before",
         "Hold the refinement check-in: have MQL->SQL rates improved vs baseline, did the quick wins move their "
         "metrics, and is the journey map still accurate, or have processes changed since mapping?"),
)}


@dataclass(frozen=True)
class Verdict:
    """One rule's result: the metric, its value, the baseline, the threshold, n and the evidence."""

    rule: str
    metric: str
    status: str
    value: float | None
    baseline: float | None
    threshold: float | None
    n: int | None
    evidence: str
    action: str | None = None

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.metric}"

    @property
    def is_rate(self) -> bool:
        return self.rule in RATE_RULES or self.metric in RATE_METRICS

    @property
    def raised(self) -> bool:
        return self.status in RAISED

    @property
    def notified(self) -> bool:
        """Announced by an alert: a raised flag or a reminder."""
        return self.status in NOTIFIED

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **asdict(self)}



def conversion_verdicts(transition: str, history: Sequence[PeriodMetrics], base: Transition | None,
                        s: MonitorSettings, maturity: str | None = None) -> list[Verdict]:
    """The decline rule (red flag) and the re-engage rule for one transition over the judged periods against the
    baseline's transition ``base`` (``maturity``: how old their leads are, for the evidence)."""
    missing = [st for st in transition.split("->") if st in history[-1].stages_without_data]
    if missing:
        return [Verdict("conversion_decline", transition, WITHHELD, None, None, None, None,
                        f"{transition} withheld: {missing[0]} has no stage entries loaded",
                        RULES["data_health"].action)]
    if base is None or base.rate is None:
        return [Verdict("conversion_decline", transition, CANNOT, None, None, None, None,
                        f"the baseline has no {transition} rate (nobody entered it); store a baseline with "
                        "`leadjourney analyze --baseline`", RULES["data_health"].action)]
    rate0 = float(base.rate)
    line = max(0.0, rate0 - s.decline_points / 100)
    notes: list[str] = []
    below: list[bool | None] = []
    latest = history[-1]
    for m in history:
        r = m.transitions.get(transition)
        if r is None or r.entered < s.min_n:
            n = 0 if r is None else r.entered
            notes.append(f"{m.period.label}: too small to judge (n {n} < {s.min_n})")
            below.append(None)
            continue
        is_below, low, high = below_baseline(r.entered, r.converted, rate0, s.decline_points)
        below.append(is_below)
        notes.append(f"{m.period.label}: {percent(r.rate)} ({r.converted:,} of {r.entered:,}, 95% CI "
                     f"{percent(low)}-{percent(high)}){' below' if is_below else ''}")
    r = latest.transitions.get(transition)
    value, n = (r.rate, r.entered) if r is not None else (None, 0)
    evidence = (f"baseline {percent(rate0)} (n {base.entered:,}); " + "; ".join(notes)
                + f"; leads judged once they had {maturity or f'at least {s.maturity_days} days'} (younger "
                "cohorts are still converting)")
    if below[-1] is None:
        status = TOO_SMALL
    elif all(below):
        status = RED_FLAG
    elif below[-1]:
        status = WATCH
    else:
        status = OK
    out = [Verdict("conversion_decline", transition, status, value, rate0, line, n, evidence,
                   RULES["conversion_decline"].action)]
    if r is not None and below[-1] is not None:
        reengage, _, _ = below_baseline(r.entered, r.converted, rate0, s.reengage_points)
        out.append(Verdict("conversion_reengage", transition, REENGAGE if reengage else OK, value, rate0,
                           max(0.0, rate0 - s.reengage_points / 100), n, evidence,
                           RULES["conversion_reengage"].action))
    return out


def speed_verdict(latest: PeriodMetrics, base: SpeedToLead | None, s: MonitorSettings) -> Verdict:
    """Average speed-to-lead of the latest period vs the configured line (playbook: 2 hours)."""
    base_mean = None if base is None else base.mean_minutes
    label = latest.period.label
    if not latest.speed_status.shown:
        return Verdict("speed_to_lead", "mean_minutes", WITHHELD, None, base_mean, s.speed_to_lead_max_minutes, None,
                       f"{label}: speed-to-lead {latest.speed_status.text()}", RULES["data_health"].action)
    if latest.speed_n < s.min_n or latest.speed_mean_minutes is None:
        return Verdict("speed_to_lead", "mean_minutes", TOO_SMALL, latest.speed_mean_minutes, base_mean,
                       s.speed_to_lead_max_minutes, latest.speed_n,
                       f"{label}: too small to judge (n {latest.speed_n} < {s.min_n})")
    mean = latest.speed_mean_minutes
    status = RED_FLAG if mean > s.speed_to_lead_max_minutes else OK
    base_text = "-" if base_mean is None else f"{base_mean:,.0f} min"
    return Verdict("speed_to_lead", "mean_minutes", status, mean, base_mean, s.speed_to_lead_max_minutes,
                   latest.speed_n, f"{label}: average {mean:,.0f} min over {latest.speed_n:,} people judged "
                   f"(baseline {base_text})", RULES["speed_to_lead"].action)


def health_verdicts(latest: PeriodMetrics, ingest_age_days: float | None, s: MonitorSettings) -> list[Verdict]:
    """Data health: new leads in the period, and how old the latest ingest is."""
    action = RULES["data_health"].action
    leads = Verdict("data_health", "new_leads", CANNOT if latest.n_people == 0 else OK, float(latest.n_people),
                    None, 1.0, latest.n_people,
                    f"{latest.period.label}: {latest.n_people:,} new people", action)
    if ingest_age_days is None:
        age = Verdict("data_health", "ingest_age_days", CANNOT, None, None, float(s.ingest_max_age_days), None,
                      "nothing was ever ingested", action)
    else:
        stale = ingest_age_days > s.ingest_max_age_days
        age = Verdict("data_health", "ingest_age_days", RED_FLAG if stale else OK, ingest_age_days, None,
                      float(s.ingest_max_age_days), None,
                      f"the latest ingest finished {ingest_age_days:.1f} days ago", action)
    return [leads, age]


def checkin_verdict(base: Analysis, as_of: date, s: MonitorSettings) -> Verdict:
    """The refinement check-in, ``checkin_days`` after the baseline was computed: a reminder from
    ``checkin_reminder_days`` before it until a month after (a monthly run sees it at least once)."""
    rule = RULES["refinement_checkin"]
    computed = datetime.fromisoformat(base.computed_at).date()
    due = computed + timedelta(days=s.checkin_days)
    left = (due - as_of).days
    status = REMINDER if -31 <= left <= s.checkin_reminder_days else OK
    when = f"due in {left} days" if left > 0 else ("due today" if left == 0 else f"was due {-left} days ago")
    return Verdict("refinement_checkin", "days_to_checkin", status, float(left), None,
                   float(s.checkin_reminder_days), None,
                   f"baseline computed {computed}; the {s.checkin_days}-day refinement check-in is on {due} "
                   f"({when} as of {as_of})", rule.action)


def evaluate(history: Sequence[PeriodMetrics], base: Analysis, ingest_age_days: float | None,
             s: MonitorSettings,
             by_transition: Mapping[str, tuple[Sequence[PeriodMetrics], str]] | None = None) -> list[Verdict]:
    """Every rule over the judged periods (oldest first) against the baseline analysis.

    ``by_transition``: a transition's own judged periods (those old enough for it) and why, if not ``history``.
    """
    transitions = {f"{t.from_stage}->{t.to_stage}": t for t in base.funnel.transitions}
    out: list[Verdict] = []
    for name in s.transitions:
        own, why = (by_transition or {}).get(name, (history, f"at least {s.maturity_days} days"))
        out += conversion_verdicts(name, own, transitions.get(name), s, why)
    out.append(speed_verdict(history[-1], base.speed_to_lead, s))
    out += health_verdicts(history[-1], ingest_age_days, s)
    return out
