"""The friction ranking document: the map, the funnel with intervals, drop-off points and the ranking.

Numbers are the analysis's own (``Analysis.friction``, ``Analysis.funnel``), formatted here;
stages, sources and personas are named for people (:mod:`leadjourney.display`, ``[labels]``), each
friction row that is a finding shows its status in words, and the analyst's detail (finding ids,
adjusted p-values, the counting mode) sits in an appendix at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from leadjourney.analysis.findings import Finding
from leadjourney.analysis.friction import FrictionRow, money
from leadjourney.analysis.funnel import WITHOUT_DATA
from leadjourney.analysis.report import Analysis, friction_preamble
from leadjourney.display import days, percent, segment_name
from leadjourney.escape import markdown_code
from leadjourney.escape import markdown_text as md
from leadjourney.reports.maintenance import ci
from leadjourney.reports.people import humanize, stage, status_word, transition, without_p

MAP_IMAGE, FUNNEL_IMAGE = "journey_map.png", "funnel.png"
_NOISE = re.compile(r"\s*\(the gap is within noise[^)]*\)")
_REPEATED_RATE = re.compile(r":\s*\d+(?:\.\d+)?%")  # "other sources: 16.6%": the rate the target column shows



def friction_markdown(analysis: Analysis, findings: Sequence[Finding], currency: str,
                      map_image: str | None = MAP_IMAGE, funnel_image: str | None = FUNNEL_IMAGE,
                      labels: Mapping[str, str] | None = None, cropped_map: str | None = None) -> str:
    """Friction ranking with its evidence, in the playbook's template columns; ``cropped_map`` (the stages
    and drop-offs) comes before the ranking when given, the full ``map_image`` then closes it as an appendix."""
    status = {f.finding_id: f.status for f in findings}
    fr, f = analysis.friction, analysis.funnel
    lines = ["# Friction ranking", "",
             f"Where the {analysis.n_people:,} people of this selection drop off, ranked by recoverable revenue "
             f"(computed {analysis.computed_at}). Findings are assumed until stakeholders confirm them.", ""]
    lines += ["## Funnel", ""]
    if funnel_image:
        lines += [f"![Funnel with 95% intervals]({funnel_image})", ""]
    lines += ["| Transition | Entered | Converted | Rate | 95% interval | Status |", "|---|---:|---:|---:|---|---|"]
    for t in f.transitions:
        fid = f"conversion:{t.from_stage}->{t.to_stage}"
        finding = status_word(status.get(fid)) if t.status.judged else md(t.status.text())
        lines.append(f"| {md(transition(t.from_stage, t.to_stage, labels))} | {t.entered:,} | {t.converted:,} | "
                     f"{percent(t.rate)} | {ci(t.ci_low, t.ci_high)} | {finding} |")
    notes = [f"- {md(stage(s, labels))}: {WITHOUT_DATA}." for s in f.stages_without_data]
    notes += [f"- {name} {metric.text()}." for name, metric in (("Speed-to-lead", analysis.speed_to_lead.status),
                                                                 ("Dark leads", analysis.dark_leads.status))
              if not metric.judged]
    lines += ["", *notes] if notes else []
    lines += ["", "## Drop-off points", ""]
    lines += [f"- **{md(transition(d.from_stage, d.to_stage, labels))}**"
              f"{', ' + md(segment_name(d.segment, labels)) if d.segment else ''}: "
              f"{percent(d.rate)}, {md(humanize(without_p(d.reason)[0], labels))}" for d in fr.drop_offs] or [
        "- No transition converts significantly below its benchmark or the other sources."]
    lead_map = cropped_map or map_image
    if lead_map:
        lines += ["", "## Journey map", "", f"![Journey map]({lead_map})", "",
                  "Drop-off points flagged red, conversion between the stages"
                  + ("; the full map closes this document." if cropped_map and map_image else ", the dark path below.")]
    per = fr.per
    lines += ["", "## Ranking", ""]
    lines += friction_preamble(fr)
    lines += ["", "Rows for a transition and its segments overlap: do not add them up."]
    gaps = [r for r in fr.rows if r.recoverable_per_year] or fr.rows[:10]
    rest = [r for r in fr.rows if r not in gaps]
    head = (f"| Rank | Stage transition | Segment | Drop-off % | Time in stage | Rate | Target (source) | "
            f"Recoverable / {per} | Value of all drop-offs / {per} (upper bound) |")
    lines += ["", f"{head} Root-cause hypothesis | Status |", "|---:|---|---|---:|---:|---:|---|---:|---:|---|---|"]
    lines += [f"{_row(r, currency, labels)} {md(humanize(r.hypothesis, labels))} | "
              f"{_status(r, status)} |" for r in gaps]
    if not fr.rows:
        lines.append("| - | No transition loses people | | | | | | | | | |")
    if rest:
        lines += ["", "### Nothing recoverable against the target", "",
                  f"The other {len(rest)} transitions and segments: at or above their target, within noise of it, "
                  "or without one. Their hypotheses are in the analyst's `analyze` output.", "",
                  f"{head} Status |", "|---:|---|---|---:|---:|---:|---|---:|---:|---|"]
        lines += [f"{_row(r, currency, labels)} {_status(r, status)} |" for r in rest]
    withheld = [r for r in fr.rows if r.recoverable_per_year is None]
    lines += ["", *[f"- #{r.rank}: {md(r.status.text())}." for r in withheld]] if withheld else []
    lines += _appendix(analysis, status)
    if cropped_map and map_image:
        lines += ["", "## Appendix: the full journey map", "", f"![The full journey map]({map_image})", "",
                  "Every lane, touchpoint, persona and the dark path; the interactive map zooms "
                  "(`leadjourney map`)."]
    return "\n".join(lines) + "\n"


def _target(r: FrictionRow, labels: Mapping[str, str] | None) -> str:
    """The target and where it comes from, without repeating the rate: "16.6% (other sources)"."""
    if r.target_rate is None:
        return humanize(r.target_source, labels)
    source = _NOISE.sub(", within noise", _REPEATED_RATE.sub("", r.target_source, count=1))
    return f"{percent(r.target_rate)} ({humanize(source, labels)})"


def _status(r: FrictionRow, status: dict[str, str]) -> str:
    """The finding's status in words, or why the row has no recoverable figure."""
    if r.recoverable_per_year is None:  # the reason in full under the table
        return md(r.status.text().split(":", 1)[0]) + f" (#{r.rank})"
    return status_word(status.get(f"friction:{r.rank}"))


def _row(r: FrictionRow, currency: str, labels: Mapping[str, str] | None) -> str:
    """The ranking columns both tables share, up to the upper bound."""
    recoverable = money(r.recoverable_per_year, currency) if r.recoverable_per_year is not None else "-"
    return (f"| {r.rank} | {md(transition(r.from_stage, r.to_stage, labels))} | {md(segment_name(r.segment, labels))} | "
            f"{percent(r.drop_off_rate)} | {days(r.median_days)} | {percent(r.rate)} | {md(_target(r, labels))} | "
            f"{md(recoverable)} | {money(r.value_of_all_dropoffs_per_year, currency)} |")


def _appendix(analysis: Analysis, status: dict[str, str]) -> list[str]:
    """The analyst's detail: counting mode, adjusted p-values of the drop-offs, the finding ids to confirm."""
    fr = analysis.friction
    lines = ["", "## Appendix: for the analyst", "",
             f"Funnel counted in `{analysis.funnel.mode}` mode. Drop-offs are significant after Holm's correction "
             "for the number of comparisons; confirm or correct a finding with "
             "`leadjourney findings confirm ID`.", "",
             "| Drop-off | Test | Finding |", "|---|---|---|"]
    for d in fr.drop_offs:
        _, p = without_p(d.reason)
        who = f" ({d.segment})" if d.segment else ""
        fid = f"source:{d.segment.split('=', 1)[1]}:{d.from_stage}->{d.to_stage}" if d.segment and \
            d.segment.startswith("source=") else ""
        lines.append(f"| {md(d.from_stage)}->{md(d.to_stage)}{md(who)} | {md(p) or '-'} | "
                     f"{_finding(fid, status)} |")
    ranked = [f"| friction #{r.rank} | - | {_finding(f'friction:{r.rank}', status)} |" for r in fr.rows
              if f"friction:{r.rank}" in status]
    ranked += [f"| {md(t.from_stage)}->{md(t.to_stage)} | - | {_finding(fid, status)} |"
               for t in analysis.funnel.transitions
               if (fid := f"conversion:{t.from_stage}->{t.to_stage}") in status]
    return lines + ranked


def _finding(finding_id: str, status: dict[str, str]) -> str:
    return f"{markdown_code(finding_id)} {status[finding_id]}" if finding_id in status else "-"
