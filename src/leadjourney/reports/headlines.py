"""Takeaways for people who read one line per slide: computed once from the results, rendered anywhere.

Each headline says what the numbers mean ("Enterprise IT loses $825k/yr at Opportunity → Customer"),
never more than they hold: a figure not judged (too few people, still converting, withheld) is not
a headline's subject; when nothing can be said, the headline says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadjourney.analysis.findings import ASSUMED
from leadjourney.display import count, display_name, minutes, money, percent, segment_name

if TYPE_CHECKING:
    from leadjourney.analysis.friction import Friction, FrictionRow
    from leadjourney.analysis.funnel import Funnel
    from leadjourney.reports.package import ReportPackage
    from leadjourney.reports.recommendations import Recommendation, Recommendations

DEFAULT_SLA_MINUTES = 5.0  # the playbook's optimal response time


@dataclass(frozen=True)
class Tile:
    """One headline number: what it is, its value (or "-"), and a line saying what stands behind it."""

    label: str
    value: str
    detail: str


def transition_name(a: str, b: str, labels: Mapping[str, str] | None = None) -> str:
    return f"{display_name(a, labels)} → {display_name(b, labels)}"


def top_priced(friction: Friction) -> FrictionRow | None:
    """The friction row with the largest recoverable figure (judged rows only), None when none is priced."""
    priced = [r for r in friction.rows if r.recoverable_per_year]
    return max(priced, key=lambda r: r.recoverable_per_year or 0.0, default=None)


def friction_headline(friction: Friction, currency: str, labels: Mapping[str, str] | None = None) -> str:
    row = top_priced(friction)
    if row is None:
        return "No drop-off can be priced yet: every gap is at its target, too small a group, or still converting"
    who = segment_name(row.segment, labels)
    return (f"{who} loses {money(row.recoverable_per_year, currency)}/{friction.per} at "
            f"{transition_name(row.from_stage, row.to_stage, labels)}")


def funnel_headline(funnel: Funnel, labels: Mapping[str, str] | None = None) -> str:
    """How many reach the end so far, and the weakest step among the judged transitions."""
    parts = []
    if funnel.stages and funnel.stages[0].reached:
        first, last = funnel.stages[0], funnel.stages[-1]
        parts.append(f"{count(last.reached)} of {count(first.reached)} leads became "
                     f"{display_name(last.stage, labels)} so far")
    judged = [t for t in funnel.transitions if t.status.judged and t.rate is not None]
    if judged:
        weakest = min(judged, key=lambda t: t.rate or 0.0)
        parts.append(f"the weakest judged step is {transition_name(weakest.from_stage, weakest.to_stage, labels)} "
                     f"at {percent(weakest.rate)}")
    young = [t for t in funnel.transitions if not t.status.judged and t.status.shown and t.projected is not None]
    if young and not judged:
        parts.append("every step is still converting")
    return "; ".join(parts) or "No leads in this selection"


def top_actions(recs: Recommendations, n: int = 3) -> list[Recommendation]:
    """The first ``n`` recommendations by priority (revenue at stake per hour), corrected ones left out."""
    from leadjourney.analysis.findings import CORRECTED

    return [r for r in sorted(recs.items, key=lambda r: r.rank) if r.status != CORRECTED][:n]


@dataclass(frozen=True)
class Action:
    """One action of the executive summary: a catalogue action with every subject it fired for ("Update lead
    scoring threshold criteria" for two sources), its hours added up and its money without double counting."""

    title: str
    head: str  # the title without the subjects listed (a headline's words)
    revenue: float | None
    hours_low: float
    hours_high: float
    members: tuple[Recommendation, ...]

    def line(self, currency: str, per: str) -> str:
        value = f"{money(self.revenue, currency)}/{per}" if self.revenue else "not priced"
        return f"{self.title}: {value}, {self.hours_low:g}-{self.hours_high:g} hours"


def top_action_groups(recs: Recommendations, n: int = 3, labels: Mapping[str, str] | None = None) -> list[Action]:
    """The first ``n`` distinct actions by priority: recommendations of one catalogue action (one per source,
    stage or transition) are one action with their subjects listed, so three lines are three things to do."""
    from leadjourney.reports.people import humanize

    groups: dict[str, list[Recommendation]] = {}
    for r in top_actions(recs, len(recs.items)):
        if r.action in groups or len(groups) < n:
            groups.setdefault(r.action, []).append(r)
    out = []
    for members in groups.values():
        titles = [humanize(r.title, labels) for r in members]
        heads = {t.split(": ", 1)[0] for t in titles}
        title = head = titles[0]
        if len(members) > 1 and len(heads) == 1 and all(": " in t for t in titles):
            head = heads.pop()
            title = f"{head} ({', '.join(t.split(': ', 1)[1] for t in titles)})"
        elif len(members) > 1:
            title = "; ".join(titles)
            head = f"{titles[0]} and {len(titles) - 1} more like it"
        out.append(Action(title, head, _not_double_counted(members), sum(r.hours_low for r in members),
                          sum(r.hours_high for r in members), tuple(members)))
    return out


def _not_double_counted(members: list[Recommendation]) -> float | None:
    """The money of several recommendations together: each friction row once (as counted in them); rows of one
    transition overlap across segment kinds (a persona's people are among the sources'; the whole transition
    holds both), so per transition only the larger kind's sum counts."""
    if all(r.revenue is None for r in members):
        return None
    rows = {row.rank: row for r in members for row in r.friction}
    per_kind: dict[tuple[str, str], dict[str, float]] = {}
    for r in members:
        for rank, amount in r.counted:
            row = rows.get(rank)
            if row is None:
                continue
            kind = row.segment.split("=", 1)[0] if row.segment else ""
            kinds = per_kind.setdefault((row.from_stage, row.to_stage), {})
            kinds[kind] = kinds.get(kind, 0.0) + amount
    return sum(max(kinds.values()) for kinds in per_kind.values())


def action_value(r: Recommendation, currency: str, per: str) -> str:
    return f"{money(r.revenue, currency)}/{per}" if r.revenue else "not priced"


def summary_headline(p: ReportPackage) -> str:
    actions = top_action_groups(p.recommendations, 1, p.labels)
    fr = p.analysis.friction
    if not actions:
        return friction_headline(fr, p.currency, p.labels)
    first = actions[0]
    value = f" ({money(first.revenue, p.currency)}/{fr.per} at stake)" if first.revenue else ""
    return f"{first.head} first{value}"


def summary_tiles(p: ReportPackage) -> list[Tile]:
    """Three numbers for the executive summary: bookings, the largest priced gap, speed-to-lead."""
    fr, sp = p.analysis.friction, p.analysis.speed_to_lead
    bookings = fr.bookings_per_year
    tiles = [Tile(f"Bookings / {fr.per}", money(bookings, p.currency),
                  f"won deals' amounts, {count(fr.deal_size_n)} deals" if bookings is not None
                  else "withheld: no won deal with an amount in this selection")]
    row = top_priced(fr)
    tiles.append(Tile(f"Largest recoverable gap / {fr.per}", money(row.recoverable_per_year, p.currency)
                      if row else "-",
                      f"{segment_name(row.segment, p.labels)}, {transition_name(row.from_stage, row.to_stage, p.labels)}"
                      if row else "no drop-off can be priced yet"))
    sla = p.sla_minutes or DEFAULT_SLA_MINUTES
    if sp.status.judged and sp.median_minutes is not None:
        tiles.append(Tile("Speed to lead (median)", minutes(sp.median_minutes),
                          f"SLA {minutes(sla)}; {percent(sp.never_contacted_share, 0)} never contacted by a person"
                          if sp.never_contacted_share is not None else f"SLA {minutes(sla)}"))
    else:
        tiles.append(Tile("Speed to lead (median)", "-", sp.status.text() or "not measured"))
    return tiles


def findings_line(p: ReportPackage) -> str:
    assumed = sum(f.status == ASSUMED for f in p.findings)
    return (f"{assumed} of {len(p.findings)} findings are still ASSUMED until stakeholders confirm them"
            if assumed else "Every finding is confirmed or corrected by stakeholders")


def quick_wins_headline(recs: Recommendations, currency: str, per: str) -> str:
    spec = recs.quick_win_spec()
    if not spec:
        return "No quick win qualifies: every recommendation takes 5 hours or more"
    value = sum(r.revenue or 0.0 for r in spec)
    hours = sum(r.hours_high for r in spec)
    worth = f", worth {money(value, currency)}/{per}" if value else ""
    return f"{len(spec)} quick wins in at most {hours:g} hours{worth}"


def personas_headline(summary: list[dict[str, object]], labels: Mapping[str, str] | None = None) -> str:
    if not summary:
        return "No personas in this selection"
    largest = max(summary, key=lambda s: float(s["share"] or 0.0))  # type: ignore[arg-type]
    return (f"{len(summary)} personas; {display_name(str(largest['persona']), labels)} is the largest "
            f"({percent(float(largest['share'] or 0.0))} of leads)")  # type: ignore[arg-type]


def definitions_headline(signed: int, total: int) -> str:
    if not total:
        return "No stage definitions written yet"
    if signed == total:
        return f"All {total} stage definitions are signed off"
    return f"{signed} of {total} stage definitions signed off: agreeing them is the next gate"
