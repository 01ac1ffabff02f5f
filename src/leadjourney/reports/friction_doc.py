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
from leadjourney.display import days, moment, percent, segment_name
from leadjourney.escape import markdown_code
from leadjourney.escape import markdown_text as md
from leadjourney.reports.maintenance import ci
from leadjourney.reports.people import humanize, plain, stage, status_word, transition, without_p

MAP_IMAGE, FUNNEL_IMAGE = "journey_map.png", "funnel.png"
TOP_ROWS = 10  # ranked rows the VP reads first; the rest go to the appendix
FULL_MAP_NOTE = (f"`{MAP_IMAGE}` beside this document; `leadjourney map` writes the interactive one, "
                 "which zooms")
_NOISE = re.compile(r"\s*\(the gap is within noise[^)]*\)")
_REPEATED_RATE = re.compile(r":\s*\d+(?:\.\d+)?%")  # "other sources: 16.6%": the rate the target column shows



def friction_markdown(analysis: Analysis, findings: Sequence[Finding], currency: str,
                      map_image: str | None = MAP_IMAGE, funnel_image: str | None = FUNNEL_IMAGE,
                      labels: Mapping[str, str] | None = None, cropped_map: str | None = None) -> str:
    """Friction ranking with its evidence, in the playbook's template columns: the top drop-offs first,
    the other judged rows and those too few to judge (one line per transition) in appendices. The map is
    ``cropped_map`` (the stages and drop-offs, the full map named beside it) when given, else ``map_image``."""
    status = {f.finding_id: f.status for f in findings}
    fr, f = analysis.friction, analysis.funnel
    lines = ["# Friction ranking", "",
             f"Where the {analysis.n_people:,} people of this selection drop off, ranked by recoverable revenue "
             f"(computed {moment(analysis.computed_at)}). Findings are assumed until stakeholders confirm them.", ""]
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
    if cropped_map:
        lines += ["", "## Journey map", "", f"![Journey map]({cropped_map})", "",
                  "Drop-off points flagged red, conversion between the stages. The full map (every lane, touchpoint, "
                  f"persona and the dark path) is {FULL_MAP_NOTE}."]
    elif map_image:
        lines += ["", "## Journey map", "", f"![Journey map]({map_image})", "",
                  "Drop-off points flagged red, conversion between the stages, the dark path below."]
    per = fr.per
    judged = [r for r in fr.rows if r.recoverable_per_year is not None]
    top, rest = judged[:TOP_ROWS], judged[TOP_ROWS:]
    withheld = [r for r in fr.rows if r.recoverable_per_year is None]
    lines += ["", "## Top drop-offs by revenue", ""]
    lines += friction_preamble(fr)
    lines += ["", "Rows for a transition and its segments overlap: do not add them up."
              + (f" The other {len(rest) + len(withheld)} rows are in the appendix." if rest or withheld else "")]
    head = (f"| Rank | Stage transition | Segment | Drop-off % | Time in stage | Rate | Target (source) | "
            f"Recoverable / {per} | Value of all drop-offs / {per} (upper bound) |")
    lines += ["", f"{head} Root-cause hypothesis | Status |", "|---:|---|---|---:|---:|---:|---|---:|---:|---|---|"]
    lines += [f"{_row(r, currency, labels, short=True)} {md(humanize(r.hypothesis, labels))} | "
              f"{status_word(status.get(f'friction:{r.rank}'))} |" for r in top]
    if not judged:
        lines.append("| - | No transition to judge | | | | | | | | | |")
    if rest:
        lines += ["", "## Appendix: the other transitions and segments", "",
                  f"Ranks {rest[0].rank}-{rest[-1].rank}, by recoverable revenue then the value of all drop-offs. "
                  "Their hypotheses are in the analyst's `analyze` output.", "",
                  f"{head} Status |", "|---:|---|---|---:|---:|---:|---|---:|---:|---|"]
        lines += [f"{_row(r, currency, labels)} {status_word(status.get(f'friction:{r.rank}'))} |" for r in rest]
    lines += _withheld(withheld, labels)
    lines += _appendix(analysis, status)
    return "\n".join(lines) + "\n"


def _target(r: FrictionRow, labels: Mapping[str, str] | None, short: bool = False) -> str:
    """The target and where it comes from, without repeating the rate: "16.6% (other sources)"; ``short`` (the
    VP's table): a benchmark by its citation only ("15.0% (benchmark [1])"), no target without the why."""
    if r.target_rate is None:
        return "no target" if short else humanize(r.target_source, labels)
    if short and r.target_source.startswith("benchmark"):
        cite = re.search(r"\[[^\]]*\]", r.target_source)
        return f"{percent(r.target_rate)} (benchmark{' ' + cite.group(0) if cite else ''})"
    source = _NOISE.sub(", within noise", _REPEATED_RATE.sub("", r.target_source, count=1))
    return f"{percent(r.target_rate)} ({humanize(source, labels)})"


def _row(r: FrictionRow, currency: str, labels: Mapping[str, str] | None, short: bool = False) -> str:
    """The ranking columns both tables share, up to the upper bound."""
    recoverable = money(r.recoverable_per_year, currency) if r.recoverable_per_year is not None else "-"
    return (f"| {r.rank} | {md(transition(r.from_stage, r.to_stage, labels))} | {md(segment_name(r.segment, labels))} | "
            f"{percent(r.drop_off_rate)} | {days(r.median_days)} | {percent(r.rate)} | {md(_target(r, labels, short))} | "
            f"{md(recoverable)} | {money(r.value_of_all_dropoffs_per_year, currency)} |")


def _withheld(rows: Sequence[FrictionRow], labels: Mapping[str, str] | None) -> list[str]:
    """The rows without a recoverable figure (too few people) as one compact table, a line each with the
    reason in the status's own words, instead of a full ranking row and a bullet each."""
    if not rows:
        return []
    lines = ["", "## Appendix: too few to judge", "",
             f"{len(rows)} rows (ranks {rows[0].rank}-{rows[-1].rank}) have no recoverable figure. Their full "
             "figures are in the analyst's `analysis.json` (`leadjourney analyze --json`).", "",
             "| Rank | Stage transition | Segment | Why no figure |", "|---:|---|---|---|"]
    lines += [f"| {r.rank} | {md(transition(r.from_stage, r.to_stage, labels))} | "
              f"{md(segment_name(r.segment, labels))} | {md(plain(r.status.text()) or 'not judged')} |" for r in rows]
    return lines


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
