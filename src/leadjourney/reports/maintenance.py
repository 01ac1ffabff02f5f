"""The maintenance playbook: the playbook's monthly and quarterly tasks with this workspace's thresholds.

Thresholds come from the stored baseline snapshot (``leadjourney analyze --baseline``), loaded
back from its JSON so every number is the one ``analyze --json`` printed; without a stored baseline
the report's own analysis stands in, and the document says so. The playbook's rules are
kept as written (a 5-point decline for 2+ months, speed-to-lead above 2 hours, a 10-point
drop to re-engage); rules it does not give (dark leads, never contacted) follow its 5-point
rule and are marked as ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leadjourney.analysis.friction import Friction, FrictionRow, money
from leadjourney.analysis.rates import Transition
from leadjourney.analysis.report import Analysis
from leadjourney.display import display_name, minutes, moment, percent, row_name
from leadjourney.reports.definitions import DefinitionDocument, data_line

DECLINE_PP = 0.05  # "more than 5 percentage point decline from baseline for 2+ months"
REENGAGE_PP = 0.10  # "more than 10 percentage point drop from post-project baseline"
SPEED_RED_FLAG_MIN = 120.0  # ">2 hours average"
QUICK_WINS_SHOWN = 3


def ci(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{low:.1%}-{high:.1%}"


def transition(base: Analysis, a: str, b: str) -> Transition | None:
    """The baseline's funnel transition a -> b (None when the lifecycle has no such step)."""
    return next((t for t in base.funnel.transitions if (t.from_stage, t.to_stage) == (a, b)), None)


def threshold_line(t: Transition, drop: float = DECLINE_PP, months: str = " for 2+ months",
                   then: str = "raises a red flag") -> str:
    """'MQL → SQL below 16.7% for 2+ months (baseline 21.7%, 95% CI 20.8%-22.6%, n 7,853) raises a red flag.'"""
    if t.rate is None:
        return f"{t.from_stage} → {t.to_stage}: nobody entered {t.from_stage} in the baseline, so no threshold yet."
    line = max(0.0, t.rate - drop)
    return (f"{t.from_stage} → {t.to_stage} below {percent(line)}{months} (baseline {percent(t.rate)}, 95% CI "
            f"{ci(t.ci_low, t.ci_high)}, n {t.entered:,}) {then}.")


def baseline_note(base: Analysis, stored: bool) -> str:
    parts = [f"{k}={v}" for k, v in base.filters.to_dict().items() if v]
    selection = ", ".join(parts) if parts else "all leads"
    if stored:
        return (f"Baseline: the snapshot stored by `leadjourney analyze --baseline`, computed {moment(base.computed_at)} "
                f"on {base.n_people:,} people ({selection}).")
    return (f"No baseline is stored yet: these thresholds use this report's analysis, computed "
            f"{moment(base.computed_at)} on {base.n_people:,} people ({selection}). Store the baseline with "
            "`leadjourney analyze WORKSPACE --baseline` at sign-off, then regenerate this playbook.")


def maintenance_markdown(base: Analysis, *, stored: bool, workspace: str = "WORKSPACE",
                         definitions: DefinitionDocument | None = None,
                         quick_wins: Sequence[tuple[str, str]] = (), touchpoint_kinds: int | None = None,
                         currency: str = "", labels: Mapping[str, str] | None = None) -> str:
    """The playbook's Phase 4a maintenance schedule, thresholds filled in from ``base`` (the baseline analysis).

    ``quick_wins`` are (title, metric now → target) of the quick-win spec, for the first-cycle check.
    """
    ws = workspace
    lines = ["# Maintenance playbook", "",
             "How and when to keep the journey map and its numbers current after handoff (playbook, Phase 4a). "
             "Who owns it: single project, the customer; dedicated (multi-project), the Architect.", "",
             baseline_note(base, stored), ""]
    lines += _monthly(base, ws) + _quarterly(base, ws, definitions, touchpoint_kinds, currency, labels)
    lines += _first_cycle(base, ws, quick_wins) + _triggers(base) + [
        "", "## Every 6-12 months", "",
        "- Full journey map refresh: re-interview stakeholders (`out/report/interview_guide.md`), re-pull data, "
        "rebuild the map.",
        "- Persona update: have buyer personas shifted? `leadjourney personas WORKSPACE` suggests personas from "
        "the data.",
        "- Market conditions check: competitive landscape changes affecting lead behavior?",
        "", "## Escalation", "",
        "| Issue type | Who handles | Example |", "|---|---|---|",
        "| Dashboard filter changes, minor metric questions | Architect | \"Can we add a date filter for this "
        "quarter?\" |",
        "| New channel mapping, lead stage redefinition | SME | \"We added a chatbot — need to update the map\" |",
        "| Full journey re-mapping | SME (new project scope) | \"Our entire lead process changed after reorg\" |"]
    return "\n".join(lines) + "\n"


def _monthly(base: Analysis, ws: str) -> list[str]:
    s, d = base.speed_to_lead, base.dark_leads
    lines = ["## Monthly", "",
             f"`leadjourney monitor {ws} --notify` (monthly, from cron) checks these lines and alerts; by hand, "
             f"run `leadjourney analyze {ws} --from FIRST-DAY-OF-MONTH --to LAST-DAY-OF-MONTH` and compare with "
             "the lines below. A month has fewer people than the baseline, so its interval is wider: the playbook "
             "asks for 2+ months in a row before acting.", "",
             "### Conversion rate review", "",
             "What to check: conversion at each stage transition vs the baseline. Red flag (playbook): a decline of "
             f"more than {DECLINE_PP * 100:.0f} percentage points from the baseline for 2+ months.", ""]
    lines += [f"- {threshold_line(t)}" for t in base.funnel.transitions]
    lines += ["", "### Speed-to-lead check", "",
              f"What to check: the average time from the {s.signal_stage or s.signal} signal to the first "
              "human outreach. Red flag (playbook): above 2 hours on average (benchmark: 5 minutes is optimal [3]).",
              ""]
    if s.n_judged:
        lines.append(f"- Average speed-to-lead above {minutes(SPEED_RED_FLAG_MIN)} raises a red flag (baseline "
                     f"average {minutes(s.mean_minutes)}, median {minutes(s.median_minutes)}; "
                     f"{percent(s.share_within_5_min)} within 5 minutes, 95% CI {ci(*_pair(s.within_5_min_ci))}; "
                     f"n {s.n_judged:,}).")
        if (s.mean_minutes or 0) > SPEED_RED_FLAG_MIN:
            lines.append(f"- The baseline is already above the line: the flag stays raised until response time "
                         f"improves. Meanwhile, an average slower than the baseline's {minutes(s.mean_minutes)} "
                         "means it is getting worse.")
        if s.never_contacted_share is not None:
            line = min(1.0, s.never_contacted_share + DECLINE_PP)
            lines.append(f"- Never contacted above {percent(line)} raises a red flag (ours, the playbook's 5-point rule; "
                         f"baseline {percent(s.never_contacted_share)}, 95% CI {ci(*_pair(s.never_contacted_ci))}, "
                         f"{s.n_never_contacted:,} people).")
    else:
        lines.append("- Nobody in the baseline had an inbound signal old enough to judge: no threshold yet.")
    lines += ["", "### Dark leads", "",
              f"What to check: open people with no engagement for {d.dark_after_days} days (the playbook's "
              "second gotcha: map the dark path, not only the happy path).", ""]
    if d.dark_share is not None:
        line = min(1.0, d.dark_share + DECLINE_PP)
        lines.append(f"- Dark-lead share above {percent(line)} raises a red flag (ours, the playbook's 5-point rule; "
                     f"baseline {percent(d.dark_share)}, 95% CI {ci(*_pair(d.dark_ci))}, {d.n_dark:,} of "
                     f"{d.n_open:,} open people).")
    else:
        lines.append("- Nobody was open in the baseline: no threshold yet.")
    as_of = base.time_in_stage.as_of or base.computed_at
    lines += ["", "### Dashboard health check", "",
              "What to check: all metrics loading, data refreshing, no broken reports. Red flag: any metric showing "
              f"stale data or errors. The baseline's data ran to {str(as_of)[:10]}; each month's export should run "
              f"to the end of that month. Check the exports with `leadjourney quality {ws}` after every ingest.", ""]
    return lines


def _friction_money(row: FrictionRow, friction: Friction, currency: str) -> str:
    """A stored friction row's money: recoverable against its target; a snapshot from before recoverable
    revenue existed has only the value of all drop-offs, said as the upper bound it is (such a row has no
    recoverable figure yet a judged status: a row of today without one is not judged)."""
    per = "a year" if friction.annualized else "over the period"
    if row.recoverable_per_year is None and row.status.judged:
        return f"value of all drop-offs (upper bound) {money(row.value_of_all_dropoffs_per_year, currency)} {per}"
    if row.recoverable_per_year is None:
        return f"no recoverable figure ({row.status.reason or row.status.status.value})"
    return (f"{money(row.recoverable_per_year, currency)} recoverable {per} "
            f"({row.recoverable_text() or row.target_source})")


def _quarterly(base: Analysis, ws: str, definitions: DefinitionDocument | None, kinds: int | None,
               currency: str, labels: Mapping[str, str] | None = None) -> list[str]:
    rows = base.friction.rows[:3]
    significant = [c for c in base.sources.conversion if c.significant]
    lines = ["## Quarterly", "",
             "| Quarterly task | What to review | Action if off-track |", "|---|---|---|",
             "| Full journey audit | Re-check all stage transitions for new friction points | Update journey map, "
             "re-rank friction points |",
             "| Channel performance review | Compare lead source conversion rates vs prior quarter | Adjust channel "
             "strategy, update MAP if new channels |",
             "| Lead stage definition check | Are MQL/SQL definitions still accurate and enforced? | Update "
             "definitions, retrain teams if drift detected |",
             "| Touchpoint inventory update | Have new touchpoints been added (new content, chatbot)? | Add to "
             "journey map, assess impact on conversions |",
             "", "### Full journey audit", "",
             f"`leadjourney analyze {ws} --from QUARTER-START` and `leadjourney map {ws}`; compare the friction "
             "ranking with the baseline's top rows:", ""]
    lines += [f"- #{r.rank} {row_name(r.from_stage, r.to_stage, r.segment, labels)}: drop-off "
              f"{percent(r.drop_off_rate)}, {_friction_money(r, base.friction, currency)}".replace("  ", " ")
              for r in rows] or [
        "- The baseline has no friction rows."]
    lines += ["", "### Channel performance review", "",
              f"`leadjourney analyze {ws} --from QUARTER-START --json` lists conversion by source with intervals. "
              "Sources that differed significantly in the baseline:", ""]
    lines += [f"- {display_name(c.source, labels)}: {c.from_stage} → {c.to_stage} {percent(c.rate)} (95% CI {ci(c.ci_low, c.ci_high)}), "
              f"{c.direction} than the rest" for c in significant] or ["- None differed significantly."]
    lines += ["", "### Lead stage definition check", "",
              f"`leadjourney definitions {ws}` re-checks the data against the criteria. Drift now (share of people "
              "who entered a stage without meeting its criteria); a rising share means the definitions are no "
              "longer enforced:", ""]
    terms = [t for t in (definitions.terms if definitions else []) if data_line(t)]
    lines += [f"- {t.definition.term}: {data_line(t)}" for t in terms] or [
        "- No executable criteria or SLA in the [[definitions]] of leadjourney.toml."]
    lines += ["", "### Touchpoint inventory update", "",
              f"`leadjourney touchpoints {ws}` lists touchpoints by stage, kind, channel and actor"
              + (f"; the inventory now has {kinds:,} kind x channel combinations" if kinds is not None else "")
              + ". A new kind or channel (chatbot, new content type) goes onto the map.", ""]
    return lines


def _first_cycle(base: Analysis, ws: str, quick_wins: Sequence[tuple[str, str]]) -> list[str]:
    t = transition(base, "MQL", "SQL")
    lines = ["## After the first business cycle (60-90 days post-launch)", ""]
    if t is not None and t.rate is not None:
        lines.append(f"- Conversion rate validation: has MQL → SQL improved on the baseline {percent(t.rate)} "
                     f"(95% CI {ci(t.ci_low, t.ci_high)})? Industry benchmark: average 15-21% [1], top "
                     "performers 30-40% [1][2]; compare against both.")
    lines.append("- Recommendation impact check: did the implemented quick wins move their metric? If not, "
                 "investigate whether the root-cause hypothesis was correct. Measure with "
                 f"`leadjourney analyze {ws} --from GO-LIVE-DATE`.")
    lines += [f"  - {title}: {metric}" for title, metric in quick_wins[:QUICK_WINS_SHOWN]]
    lines += ["- Key question: is the journey map still accurate, or have processes changed since mapping?", ""]
    return lines


def _triggers(base: Analysis) -> list[str]:
    t = transition(base, "MQL", "SQL")
    drop = (threshold_line(t, REENGAGE_PP, "", "means re-engaging") if t is not None else
            "MQL → SQL is not a step of this lifecycle: watch the first qualification step instead.")
    return ["## Refinement triggers (when to re-engage)", "",
            "| Trigger | Threshold | Response |", "|---|---|---|",
            f"| MQL→SQL conversion rate decline | >10 percentage point drop from the post-project baseline: {drop} | "
            "Re-engage SME — investigate new friction points |",
            "| New inbound channel added | Any new channel (e.g., chatbot, new content type) | Update journey map "
            "touchpoint inventory |",
            "| Marketing/Sales reorg | New team structure or handoff process | Re-map handoff stages, update "
            "definitions |",
            "| CRM/MAP platform change | Migration to new system | Full journey re-mapping project |"]


def _pair(value: Sequence[float] | None) -> tuple[float | None, float | None]:
    return (value[0], value[1]) if value else (None, None)
