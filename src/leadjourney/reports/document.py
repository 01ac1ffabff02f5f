"""The recommendations document in Markdown: summary, matrix, ranked table, details, quick-win spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from leadjourney.display import counted, moment, row_name
from leadjourney.escape import markdown_text as md
from leadjourney.reports.evidence import fmt
from leadjourney.reports.people import humanize, status_word, without_p

QUICK_WIN_HOURS = 5.0  # the playbook: "Select 2-3 that can be implemented in <5 hours each"
QUICK_WINS, MAJOR_PROJECTS, FILL_INS, THANKLESS = "quick wins", "major projects", "fill-ins", "thankless tasks"
MATRIX_IMAGE = "impact_effort.png"  # the documents' image names
BOARD_MAP = "journey_map_board.png"  # the deck's appendix map: wider, fewer touchpoints per lane
BOARD_MAP_TOP = "journey_map_funnel.png"  # Word's map page: the stages, conversions and drop-offs only

if TYPE_CHECKING:
    from leadjourney.reports.recommendations import Recommendation, Recommendations


def _money(value: float | None, currency: str) -> str:
    from leadjourney.analysis.friction import money

    return money(value, currency)


def _hours(r: Recommendation) -> str:
    return f"{r.hours_low:g}-{r.hours_high:g} h"



def recommendations_markdown(recs: Recommendations, image: str | None = "impact_effort.svg",
                             labels: Mapping[str, str] | None = None) -> str:
    """A document a consultant can hand over; ``image`` is the matrix file next to it (None: none); values
    named for people through ``labels``."""

    cur = recs.currency
    fr = recs.friction
    per = fr.per if fr is not None else "yr"
    quick = [r for r in recs.items if r.quick_win]
    spec = recs.quick_win_spec()
    top = max(recs.items, key=lambda r: r.revenue or 0.0, default=None)
    lines = [f"# Recommendations: {recs.name}", "",
             f"From the journey analysis of {recs.n_people:,} people (computed {moment(recs.computed_at)}). "
             f"{counted(len(recs.items), 'recommendation')}, ranked by revenue at stake per hour of effort; "
             f"{counted(len(quick), 'quick win')} under {QUICK_WIN_HOURS:g} hours"
             + (f", the top {len(spec)} expanded into a quick-win spec below" if spec else "") + "."]
    if fr is not None and fr.deal_size_warning:
        lines += ["", f"**Warning: {fr.deal_size_warning}.**"]
    reconciliation = recs.reconciliation()
    lines += ["", f"**{reconciliation['text']}**", "",
              "Revenue at stake is recoverable revenue: closing the gap between a transition's (or a segment's) "
              "rate and its named target (the friction ranking's recoverable figure), not the value of every "
              "drop-off. " + (fr.period_text.capitalize() + "." if fr is not None else "")]
    if top is not None and top.revenue:
        lines.append(f"The largest single revenue at stake is {_money(top.revenue, cur)} / {per} "
                     f"({humanize(top.title, labels)}).")
    lines += ["", "Every number cites its evidence; each stays assumed until stakeholders confirm it.", ""]
    if image:
        lines += [f"![Impact/effort matrix]({image})", "",
                  f"Impact/effort matrix: effort at the midpoint of the typical range (bar: the range); impact is "
                  f"high at or above {_money(recs.impact_line, cur)} / {per} (the median of the recommendations); "
                  f"quick wins take under {QUICK_WIN_HOURS:g} hours; a bubble's number is its rank in the table below. "
                  f"Interactive: `impact_effort.html`.", ""]
    lines += ["## Ranked recommendations", "",
              f"| Rank | Recommendation | System | Quadrant | Revenue at stake / {per} | Effort | Per hour | "
              "Metric: now → target | Status |", "|---:|---|---|---|---:|---|---:|---|---|"]
    for r in recs.items:
        m = r.metric
        lines.append(f"| {r.rank} | {md(humanize(r.title, labels))}{' **(quick win)**' if r.quick_win else ''} | "
                     f"{r.system} | "
                     f"{r.quadrant} | {_revenue_cell(r, recs, cur)} | {_hours(r)} | {r.score:,.0f} | "
                     f"{md(humanize(m.label, labels))}: {fmt(m.current, m.unit)} → {fmt(m.target, m.unit)} | "
                     f"{status_word(r.status)} |")
    if not recs.items:
        lines.append("| - | No rule fired: see the checks below. | | | | | | | |")
    lines += _reconciliation(reconciliation, cur, recs, labels)
    lines += ["", "## Recommendations in detail"]
    for r in recs.items:
        lines += _detail(r, cur, recs, labels)
    lines += _spec(spec, labels)
    lines += ["", "## Rules checked", "", "| Rule | Fired | Why |", "|---|---:|---|"]
    lines += [f"| {c.rule} | {c.fired} | {md(c.reason)} |" for c in recs.checks]
    return "\n".join(lines) + "\n"


def _rank_of(recs: Recommendations, rid: str) -> str:
    return next((f"#{x.rank}" for x in recs.items if x.id == rid), rid)


def _revenue_cell(r: Recommendation, recs: Recommendations, cur: str) -> str:
    text = _money(r.revenue, cur)
    if r.elsewhere:
        text += " (shares " + ", ".join(f"friction #{k}, counted in {_rank_of(recs, rid)}"
                                        for k, rid in r.elsewhere) + ")"
    return text


def _reconciliation(rec: dict[str, Any], cur: str, recs: Recommendations,
                    labels: Mapping[str, str] | None = None) -> list[str]:
    lines = ["", "## How the money adds up", "", rec["text"], ""]
    if not rec["rows"]:
        return [*lines, "No recommendation cites a friction row."]
    lines += ["| Friction row | Recoverable | Counted | Counted in | Cited by | Note |", "|---|---:|---:|---|---|---|"]
    for row in rec["rows"]:
        start, _, end = row["transition"].partition("->")
        label = f"#{row['rank']} {row_name(start, end, row['segment'], labels)}"
        counted_in = _rank_of(recs, row["counted_in"]) if row["counted_in"] else "-"
        cited = ", ".join(_rank_of(recs, rid) for rid in row["cited_by"])
        lines.append(f"| {label} | {_money(row['recoverable'], cur)} | {_money(row['counted'], cur)} | "
                     f"{counted_in} | {cited} | {md(humanize(row['note'] or '', labels))} |")
    return lines


def _detail(r: Recommendation, cur: str, recs: Recommendations,
            labels: Mapping[str, str] | None = None) -> list[str]:
    m = r.metric
    per = recs.friction.per if recs.friction is not None else "yr"
    ranks = " and ".join(f"#{f.rank} {row_name(f.from_stage, f.to_stage, f.segment, labels)}" for f in r.friction)
    shared = "; ".join(f"friction #{k} is counted in {_rank_of(recs, rid)}" for k, rid in r.elsewhere)
    lines = ["", f"### {r.rank}. {humanize(r.title, labels)}", "",
             f"- **Why:** {humanize(without_p('; '.join(r.why))[0], labels)}.",
             f"- **System:** {r.system}. **Effort:** {_hours(r)} ({r.origin})"
             + (" — quick win." if r.quick_win else "."),
             f"- **Impact:** {_money(r.revenue, cur)} / {per} recoverable at stake"
             + (f", from friction {ranks}" + (f" ({shared})" if shared else "") if ranks  # a row's name ends
                # "(source)": inside parentheses it read "(friction #1 MQL → SQL (Content syndication (source)))"
                else " (no friction row of its own: it makes the other numbers trustworthy)")
             + f"; moves {humanize(m.label, labels)} from {fmt(m.current, m.unit)} to {fmt(m.target, m.unit)}. "
               f"Target: {m.target_source}"  # a sentence: a benchmark's "(average) [1]" nested in parentheses
             + (f"; benchmark {m.benchmark}" if m.benchmark else "") + ".",
             f"- **Status:** {r.status}. **Priority:** {r.score:,.0f} {cur} per hour, quadrant {r.quadrant}.",
             "- **What to change:**"]
    lines += [f"  - {humanize(c, labels)}" for c in r.changes]
    lines += ["", "| Evidence | Value | n | 95% interval | Status |", "|---|---:|---:|---|---|"]
    for e in r.evidence:
        n = "-" if e.n is None else f"{e.n:,}"
        lines.append(f"| {md(humanize(without_p(e.metric)[0], labels))} | {fmt(e.value, e.unit)} | {n} | "
                     f"{e.ci_text()} | {status_word(e.status)} |")
    return lines


def _spec(spec: list[Recommendation], labels: Mapping[str, str] | None = None) -> list[str]:

    lines = ["", "## Quick-win spec (Phase 2a)", ""]
    if not spec:
        return [*lines, "No quick win qualifies: every recommendation takes 5 hours or more, or rests on a "
                        "corrected finding."]
    lines.append("The top quick wins, as specific changes to build, test in a sandbox, deploy and document.")
    for i, r in enumerate(spec, 1):
        m = r.metric
        title = humanize(r.title, labels)
        lines += ["", f"### Quick win {i}: {title}", "",
                  f"System: {r.system}. Typical time: {_hours(r)}. Recommendation #{r.rank}, {r.status}.", "",
                  "Changes:"]
        lines += [f"- [ ] {humanize(c, labels)}" for c in r.changes]
        lines += ["", f"Acceptance check: {humanize(r.acceptance, labels)}. "
                      f"{humanize(m.label, labels)} now {fmt(m.current, m.unit)}, target "
                      f"{fmt(m.target, m.unit) if m.target is not None else 'not set'} "
                      f"({humanize(m.target_source, labels)}); measure {humanize(measure_command(r), labels)}.",
                  "", f"Build tracking: Quick win {i}: {title} — not started"]
    return lines

def measure_command(r: Recommendation) -> str:
    target = fmt(r.metric.target, r.metric.unit) if r.metric.target is not None else "the agreed target"
    return (f"after go-live: `leadjourney analyze WORKSPACE --from GO-LIVE-DATE`, then compare "
            f"{r.metric.label} with {target}")
