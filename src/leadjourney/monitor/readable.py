"""A monitor verdict as people read it: a status word and colour, what was checked, and one line of why.

The period report, the terminal and the demo print verdicts through :func:`read`, so a VP sees the
same "Red flag · MQL → SQL conversion: 12.0% against a 22.6% baseline, under the 17.6% line in every
period judged" everywhere; the analyst's evidence (intervals, p-values, maturity) stays in the report's
detail table and the JSON.

>>> from leadjourney.monitor.rules import Verdict
>>> r = read(Verdict("speed_to_lead", "mean_minutes", "red_flag", 2852.0, 2504.0, 120.0, 1194, "..."))
>>> r.label, r.subject, r.reason
('Red flag', 'Speed-to-lead', 'average 47.5 h for 1,194 people, over the 120 min line (baseline 41.7 h)')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from leadjourney.display import count, display_name, minutes, percent
from leadjourney.monitor.rules import (
    CANNOT,
    INFO,
    OK,
    RED_FLAG,
    REENGAGE,
    REMINDER,
    TOO_SMALL,
    WATCH,
    WITHHELD,
    Verdict,
)

# status -> (word, colour): red for what needs action, amber to watch, green fine, grey not judged
STATUS: dict[str, tuple[str, str]] = {
    RED_FLAG: ("Red flag", "#D93025"),
    REENGAGE: ("Re-engage", "#A50E0E"),
    CANNOT: ("Could not check", "#D93025"),
    WATCH: ("Watch", "#E37400"),
    REMINDER: ("Reminder", "#1A73E8"),
    OK: ("OK", "#188038"),
    INFO: ("Info", "#5F6368"),
    TOO_SMALL: ("Too few to judge", "#5F6368"),
    WITHHELD: ("Withheld", "#5F6368"),
}
ORDER = (REENGAGE, RED_FLAG, CANNOT, WATCH, REMINDER, INFO, TOO_SMALL, WITHHELD, OK)  # most urgent first


@dataclass(frozen=True)
class Readable:
    """One verdict for people: ``label`` and ``color`` of its status, ``subject`` checked, ``reason`` (one line)."""

    verdict: Verdict
    label: str
    color: str
    subject: str
    reason: str

    @property
    def line(self) -> str:
        return f"{self.label} · {self.subject}: {self.reason}"


def arrow(transition: str, labels: Mapping[str, str] | None = None) -> str:
    """``MQL->SQL`` as ``MQL → SQL`` (stage display names)."""
    return " → ".join(display_name(s.strip(), labels) for s in transition.split("->"))


def period_name(label: str) -> str:
    """``2026-10`` as "October 2026", ``2026-Q3`` as "Q3 2026"."""
    year, _, rest = label.partition("-")
    if rest.startswith("Q"):
        return f"{rest} {year}"
    try:
        return date(int(year), int(rest), 1).strftime("%B %Y")
    except ValueError:
        return label


def _subject(v: Verdict, labels: Mapping[str, str] | None) -> str:
    m = v.metric
    if v.rule == "conversion_decline":
        return f"{arrow(m, labels)} conversion"
    if v.rule == "conversion_reengage":
        return f"{arrow(m, labels)} conversion, re-engage line"
    if v.rule == "speed_to_lead":
        return "Speed-to-lead"
    if v.rule == "data_health":
        return {"new_leads": "New leads", "ingest_age_days": "Data freshness",
                "undated_stage_share": "Stage dates missing"}.get(m, display_name(m, labels))
    if v.rule == "refinement_checkin":
        return "Refinement check-in"
    if v.rule == "new_channel":
        kind, _, item = m.partition(": ")
        return f"New {display_name(kind, labels).lower()}: {display_name(item, labels)}" if item else "New channels"
    if v.rule == "definition_drift":
        return f"Definition drift: {display_name(m, labels)}"
    if v.rule == "stage_stall":
        return f"Time in stage: {arrow(m, labels)}"
    if v.rule == "source_shift":
        source, _, transition = m.partition(" ")
        return (f"{display_name(source, labels)} {arrow(transition, labels)} conversion" if transition
                else "Channel conversion")
    if v.rule == "recommendation_impact":
        return f"Recommendation impact: {display_name(m, labels)}"
    return display_name(m, labels)


def _first_clause(evidence: str) -> str:
    """The evidence's first clause (up to "; "), without a leading period label ("2026-10: ...")."""
    head = evidence.split("; ", 1)[0]
    label, sep, rest = head.partition(": ")
    if sep and len(label) <= 8 and label[:4].isdigit():
        return rest
    return head


def _rate_reason(v: Verdict, line: str) -> str:
    value, base = percent(v.value), percent(v.baseline)
    n = "" if v.n is None else f" of {count(v.n)} people"
    line = f"the {percent(v.threshold)} {line}"
    if v.status == RED_FLAG:
        return f"{value}{n} against a {base} baseline, under {line} in every period judged"
    if v.status == REENGAGE:
        return f"{value}{n} against a {base} baseline, under {line}: re-engage the team"
    if v.status == WATCH:
        return f"{value}{n} against a {base} baseline, under {line} this period only"
    return f"{value}{n} against a {base} baseline, above {line}"


_TOO_FEW = re.compile(r"\(n ([\d,]+) < ([\d,]+)\)")


def _reason(v: Verdict) -> str:
    if v.status == TOO_SMALL and (m := _TOO_FEW.search(v.evidence)):
        return f"only {m.group(1)} people this period; {m.group(2)} needed to judge"
    if v.status in (WITHHELD, CANNOT, TOO_SMALL, INFO) and v.rule != "data_health":
        return _first_clause(v.evidence)
    if v.rule == "conversion_decline":
        return _rate_reason(v, "line")
    if v.rule == "conversion_reengage":
        return _rate_reason(v, "re-engage line")
    if v.rule == "speed_to_lead":
        side = "over" if v.status == RED_FLAG else "under"
        base = "" if v.baseline is None else f" (baseline {minutes(v.baseline)})"
        return f"average {minutes(v.value)} for {count(v.n)} people, {side} the {minutes(v.threshold)} line{base}"
    if v.rule == "data_health" and v.metric == "new_leads":
        return (f"{count(int(v.value or 0))} new people in the period" if v.status == OK
                else "no new people in the period: the exports may have stopped")
    if v.rule == "data_health" and v.metric == "ingest_age_days":
        if v.value is None:
            return "nothing was ever loaded"
        age = f"{v.value:,.0f} days ago" if v.value >= 1 else "today"
        return f"latest data loaded {age} (line: {v.threshold:,.0f} days)"
    if v.rule == "data_health" and v.metric == "undated_stage_share":
        if v.status == TOO_SMALL:
            return _first_clause(v.evidence)
        rise = "rising" if v.status == RED_FLAG else "steady"
        return f"{percent(v.value)} of stage entries have no date, against {percent(v.baseline)} before ({rise})"
    if v.rule == "refinement_checkin":
        left = int(v.value or 0)
        return (f"due in {left} days" if left > 0 else "due today" if left == 0 else f"was due {-left} days ago")
    if v.is_rate and v.value is not None and v.baseline is not None:
        return f"{percent(v.value)} against {percent(v.baseline)} before"
    return _first_clause(v.evidence)


def read(v: Verdict, labels: Mapping[str, str] | None = None) -> Readable:
    """The verdict for people (``labels``: the workspace's display names)."""
    label, color = STATUS.get(v.status, (display_name(v.status), "#5F6368"))
    return Readable(v, label, color, _subject(v, labels), _reason(v))


def ranked(verdicts: list[Verdict], labels: Mapping[str, str] | None = None) -> list[Readable]:
    """Every verdict for people, the most urgent first (ties in the run's order)."""
    rank = {s: i for i, s in enumerate(ORDER)}
    return [read(v, labels) for v in sorted(verdicts, key=lambda v: rank.get(v.status, len(ORDER)))]


def headline(verdicts: list[Verdict]) -> str:
    """The run in a few words: "2 red flags, 1 to re-engage" or "Healthy: every check passed"."""
    parts = []
    for status, one, many in ((RED_FLAG, "red flag", "red flags"), (REENGAGE, "to re-engage", "to re-engage"),
                              (CANNOT, "check could not run", "checks could not run"),
                              (WATCH, "to watch", "to watch"), (REMINDER, "reminder", "reminders")):
        n = sum(v.status == status for v in verdicts)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    if not any(v.raised for v in verdicts):
        return "Healthy" + (f" ({', '.join(parts)})" if parts else ": every check passed or had too few to judge")
    return ", ".join(parts)


def figure(v: Verdict, x: float | None) -> str:
    """One of the verdict's numbers (value, baseline or line) in its unit: a rate, minutes, people, days."""
    if x is None:
        return "-"
    if v.is_rate:
        return percent(x)
    if v.rule == "speed_to_lead":
        return minutes(x)
    if v.metric in ("ingest_age_days", "days_to_checkin"):
        return f"{x:,.0f} days" if abs(x) >= 1 or x == 0 else f"{x:.1f} days"
    if v.rule == "stage_stall":
        return f"{x:,.1f} d"
    if float(x).is_integer():
        return count(int(x))
    return f"{x:,.1f}"
