"""The FAQ document: the playbook's recurring questions, answered with this workspace's numbers.

Questions come from the playbook (definitions, benchmarks, gotchas, maintenance, handoff);
where a question is about the client's journey, the answer quotes the analysis and cites
the finding it rests on with its status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from leadjourney.analysis.findings import ASSUMED, CONFIRMED, CORRECTED, Finding
from leadjourney.analysis.friction import money
from leadjourney.analysis.report import Analysis
from leadjourney.display import display_name, minutes, moment, percent, row_name
from leadjourney.reports.definitions import DefinitionDocument
from leadjourney.reports.maintenance import ci
from leadjourney.reports.people import humanize


def _cite(findings: dict[str, Finding], finding_id: str) -> str:
    """The finding's standing in words (its id stays in the analyst's outputs)."""
    f = findings.get(finding_id)
    return f" ({STANDING.get(f.status, f.status.lower())})" if f else ""


STANDING = {ASSUMED: "not yet confirmed by stakeholders", CONFIRMED: "confirmed by stakeholders",
            CORRECTED: "corrected by stakeholders"}


SHARED_STANDING = {f" ({text})": sentence for text, sentence in (
    (STANDING[ASSUMED], "None of these is confirmed by stakeholders yet."),
    (STANDING[CONFIRMED], "Stakeholders confirmed all of these."),
    (STANDING[CORRECTED], "Stakeholders corrected all of these."))}


def faq_markdown(analysis: Analysis, findings: Sequence[Finding], definitions: DefinitionDocument | None,
                 currency: str, workspace: str = "WORKSPACE") -> str:
    """Question-and-answer pairs; numbers from ``analysis``, statuses from ``findings``."""
    by_id = {f.finding_id: f for f in findings}
    qa: list[tuple[str, str]] = []
    qa.append(_definitions_answer(definitions))
    qa.append(_conversion_answer(analysis, by_id))
    qa.append(_speed_answer(analysis, by_id))
    qa.append(_dark_answer(analysis, by_id))
    qa.append(_friction_answer(analysis, by_id, currency))
    qa.append(_sources_answer(analysis, by_id))
    counts = Counter(f.status for f in findings)
    qa.append(("Why are the numbers marked ASSUMED?",
               "Every number computed from CRM data starts as ASSUMED: the kickoff call and stakeholder interviews "
               "validate it. A stakeholder moves a finding to CONFIRMED, or CORRECTED with what is right instead "
               f"(`leadjourney findings {workspace} confirm ID --note ...`). Now: {counts.get(CONFIRMED, 0)} "
               f"confirmed, {counts.get(CORRECTED, 0)} corrected, {counts.get(ASSUMED, 0)} still assumed."))
    fr = analysis.friction
    bookings = money(fr.bookings_per_year, currency) if fr.bookings_per_year is not None else "-"
    qa.append(("How is the revenue impact of a drop-off estimated?",
               "As recoverable revenue: the gap between a transition's rate and its named target (a [targets] "
               "entry in leadjourney.toml, else the low end of the average benchmark; for a source or persona, "
               "the other segments' rate) x the people who entered x the probability of becoming a customer after "
               "the transition x the average deal size. No target: 0, with the reason. The playbook's formula "
               "(every drop-off x deal size x later win probability) prices everyone who did not convert, so it is "
               "shown as the value of all drop-offs, an upper bound, never the headline. "
               f"Here the deal size is {money(fr.deal_size, currency)} ({fr.deal_size_source}), figures are "
               f"{fr.period_text}, and current bookings are {bookings} / {fr.per}; the transitions' recoverable "
               f"revenue adds up to {money(fr.total_recoverable(), currency)} / {fr.per}. "
               + (f"Warning: {fr.deal_size_warning}. " if fr.deal_size_warning else "")
               + "Rows for a transition and one of its segments overlap and must not be added up."))
    qa.append(("Why does the map show the current state, not the ideal one?",
               "Mapping the ideal state first hides the gaps. The map shows the current state from the data; the "
               "targets in `[targets]` of leadjourney.toml are drawn as an overlay, so the gap is visible."))
    qa.append(("Does the map show only the happy path?",
               "No: the dark path (open leads with no engagement) and the re-engagement touchpoints are drawn too. "
               "Mapping only the happy path is one of the playbook's common gotchas."))
    qa.append(("Can we trust CRM data with duplicates and missing stage dates?",
               "The data-quality check runs before the analysis and documents the known gaps (duplicate people, "
               "missing stage timestamps, skipped stages, unknown sources): "
               f"`leadjourney quality {workspace}`. Duplicates count once per person; a stage reached without a "
               "date counts as reached but not in time-in-stage."))
    qa.append(("How often should the journey map be updated?",
               "Monthly: conversion rates and speed-to-lead against the baseline. Quarterly: a full journey audit, "
               "channel performance, the definition check, the touchpoint inventory. Every 6-12 months: a full "
               "refresh with new interviews. See the maintenance playbook for this workspace's thresholds."))
    qa.append(("Who owns the maintenance?",
               "Single project: the customer, from the external handoff. Dedicated (multi-project): the Architect, "
               "from the internal handoff."))
    qa.append(("When should we re-engage the consultants?",
               "When MQL→SQL drops more than 10 percentage points from the post-project baseline, a new inbound "
               "channel is added, Marketing/Sales reorganize, or the CRM/MAP platform changes."))
    lines = ["# Frequently asked questions", "",
             f"Answers quote this workspace's analysis of {analysis.n_people:,} people (computed "
             f"{moment(analysis.computed_at)}); each number says whether stakeholders have confirmed it yet.", ""]
    for q, a in qa:
        lines += [f"## {q}", "", a, ""]
    return "\n".join(lines)


def _definitions_answer(doc: DefinitionDocument | None) -> tuple[str, str]:
    q = "What exactly is a Lead, an MQL, an SQL?"
    if doc is None or not doc.terms:
        return q, ("The terms live in `[[definitions]]` of leadjourney.toml; none are set yet. The playbook's "
                   "typical wording: a lead is any person who provided contact information through an inbound "
                   "channel; an MQL meets Marketing's firmographic and engagement criteria; an SQL was accepted by "
                   "Sales and confirmed through direct interaction.")
    terms = "; ".join(f"**{t.definition.term}**: {t.definition.definition.strip().rstrip('.')}"
                      for t in doc.terms[:4])
    return q, (f"As agreed in the Definition Alignment Document: {terms}. Sign-off: {doc.status_line()}")


def _conversion_answer(a: Analysis, f: dict[str, Finding]) -> tuple[str, str]:
    q = "Is our MQL→SQL conversion rate good?"
    t = next((t for t in a.funnel.transitions if (t.from_stage, t.to_stage) == ("MQL", "SQL")), None)
    bench = "The average B2B SaaS MQL→SQL rate is 15-21% [1]; top performers with behavioral scoring reach 39-40% [2]."
    if t is None or t.rate is None:
        return q, f"{bench} This selection has no MQL→SQL step with people in it."
    judged = "" if t.status.judged else f"; {t.status.text()}"
    return q, (f"{bench} Here: {percent(t.rate)} (95% CI {ci(t.ci_low, t.ci_high)}, {t.converted:,} of "
               f"{t.entered:,}{judged}){_cite(f, 'conversion:MQL->SQL')}.")


def _speed_answer(a: Analysis, f: dict[str, Finding]) -> tuple[str, str]:
    q = "How fast do we respond to new leads, and how fast should we?"
    s = a.speed_to_lead
    bench = ("Responding within 5 minutes makes a lead 21x more likely to qualify than waiting 30+ minutes [5]; "
             "the average B2B response takes 42 hours [3].")
    if not s.status.shown:
        return q, f"{bench} Speed-to-lead {s.status.text()}."
    if not s.n_judged:
        return q, f"{bench} Nobody in this selection is old enough to judge."
    w5 = s.within_5_min_ci or (None, None)
    return q, (f"{bench} Here the median is {minutes(s.median_minutes)} (average {minutes(s.mean_minutes)}); "
               f"{percent(s.share_within_5_min)} are reached within 5 minutes (95% CI {ci(*w5)}) and "
               f"{percent(s.never_contacted_share)} were never contacted by a person"
               f"{_cite(f, 'speed_to_lead:median')}.")


def _dark_answer(a: Analysis, f: dict[str, Finding]) -> tuple[str, str]:
    d = a.dark_leads
    q = "What is a dark lead, and how many do we have?"
    base = "A lead that goes inactive (no engagement) without converting or being disqualified."
    if not d.status.shown:
        return q, f"{base} Dark leads {d.status.text()}."
    if not d.n_open:
        return q, f"{base} Nobody is open in this selection."
    low, high = d.dark_ci or (None, None)
    return q, (f"{base} Here: {d.n_dark:,} of {d.n_open:,} open people ({percent(d.dark_share)}, 95% CI "
               f"{ci(low, high)}) had no engagement for {d.dark_after_days} days; {d.n_re_engaged:,} came back "
               f"after a dark spell{_cite(f, 'dark_leads:share')}.")


def _friction_answer(a: Analysis, f: dict[str, Finding], currency: str) -> tuple[str, str]:
    q = "Where do we lose the most?"
    rows = a.friction.rows
    if not rows:
        return q, "No transition loses people in this selection."
    r = rows[0]
    fr = a.friction
    value = (f"{money(r.recoverable_per_year, currency)} / {fr.per} recoverable ({r.recoverable_text()})"
             if r.recoverable_per_year is not None else f"no recoverable figure ({r.status.text()})")
    return q, (f"{row_name(r.from_stage, r.to_stage, r.segment)}: {percent(r.drop_off_rate)} of "
               f"{r.entered:,} have not moved on; {value}; hypothesis: {humanize(r.hypothesis)}"
               f"{_cite(f, 'friction:1')}. The friction ranking lists the rest.")


def _sources_answer(a: Analysis, f: dict[str, Finding]) -> tuple[str, str]:
    q = "Which channels bring the best leads?"
    sig = [c for c in a.sources.conversion if c.significant]
    bench = "Published: SEO-sourced leads convert at 51% MQL→SQL vs PPC at 26% [1]."
    if not sig:
        return q, f"{bench} Here no source converts significantly differently from the others."
    cites = [_cite(f, f"source:{c.source}:{c.from_stage}->{c.to_stage}") for c in sig]
    shared = cites[0] if len(set(cites)) == 1 else None  # one standing for all: said once, at the end
    parts = [f"{display_name(c.source)} {c.from_stage} → {c.to_stage} {percent(c.rate)} ({c.direction}; 95% CI "
             f"{ci(c.ci_low, c.ci_high)}){'' if shared is not None else cite}" for c, cite in zip(sig, cites, strict=True)]
    tail = f" {SHARED_STANDING[shared]}" if shared in SHARED_STANDING else ""
    return q, f"{bench} Here, significantly different from the other sources: " + "; ".join(parts) + "." + tail
