"""The friction ranking document: the map, the funnel with intervals, drop-off points and the ranking.

Numbers are the analysis's own (``Analysis.friction``, ``Analysis.funnel``), formatted here;
each friction row that is a finding shows its status.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadjourney.analysis.findings import Finding
from leadjourney.analysis.friction import money
from leadjourney.analysis.funnel import WITHOUT_DATA
from leadjourney.analysis.report import Analysis, friction_preamble
from leadjourney.escape import markdown_code
from leadjourney.escape import markdown_text as md
from leadjourney.reports.maintenance import ci, pct

MAP_IMAGE, FUNNEL_IMAGE = "journey_map.png", "funnel.png"



def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} d"


def friction_markdown(analysis: Analysis, findings: Sequence[Finding], currency: str,
                      map_image: str | None = MAP_IMAGE, funnel_image: str | None = FUNNEL_IMAGE) -> str:
    """Friction ranking with its evidence, in the playbook's template columns."""
    status = {f.finding_id: f.status for f in findings}
    fr, f = analysis.friction, analysis.funnel
    lines = ["# Friction ranking", "",
             f"Where the {analysis.n_people:,} people of this selection drop off, ranked by recoverable revenue "
             f"(computed {analysis.computed_at}; funnel counted in `{f.mode}` mode). Findings are ASSUMED until "
             "stakeholders confirm them.", ""]
    if map_image:
        lines += [f"![Journey map]({map_image})", "", "The journey map: drop-off points flagged red, conversion "
                  "between the lanes, the dark path below.", ""]
    lines += ["## Funnel", ""]
    if funnel_image:
        lines += [f"![Funnel with 95% intervals]({funnel_image})", ""]
    lines += ["| Transition | Entered | Converted | Rate | 95% interval | Finding |", "|---|---:|---:|---:|---|---|"]
    for t in f.transitions:
        fid = f"conversion:{t.from_stage}->{t.to_stage}"
        finding = _finding(fid, status) if t.status.judged else md(t.status.text())
        lines.append(f"| {md(t.from_stage)} → {md(t.to_stage)} | {t.entered:,} | {t.converted:,} | {pct(t.rate)} | "
                     f"{ci(t.ci_low, t.ci_high)} | {finding} |")
    notes = [f"- {md(s)}: {WITHOUT_DATA}." for s in f.stages_without_data]
    notes += [f"- {name} {metric.text()}." for name, metric in (("Speed-to-lead", analysis.speed_to_lead.status),
                                                                 ("Dark leads", analysis.dark_leads.status))
              if not metric.judged]
    lines += ["", *notes] if notes else []
    lines += ["", "## Drop-off points", ""]
    lines += [f"- **{md(d.from_stage)} → {md(d.to_stage)}**{' (' + md(d.segment) + ')' if d.segment else ''}: "
              f"{pct(d.rate)}, {md(d.reason)}" for d in fr.drop_offs] or [
        "- No transition converts significantly below its benchmark or the other sources."]
    per = fr.per
    lines += ["", "## Ranking", ""]
    lines += friction_preamble(fr)
    lines += ["", "Rows for a transition and its segments overlap: do not add them up.", "",
              f"| Rank | Stage transition | Segment | Drop-off % | Time in stage | Rate | Target (source) | "
              f"Recoverable / {per} | Value of all drop-offs / {per} (upper bound) | Root-cause hypothesis | Status |",
              "|---:|---|---|---:|---:|---:|---|---:|---:|---|---|"]
    for r in fr.rows:
        target = (f"{pct(r.target_rate)} ({r.target_source})" if r.target_rate is not None else r.target_source)
        recoverable = (money(r.recoverable_per_year, currency) if r.recoverable_per_year is not None
                       else f"- ({r.status.text()})")
        lines.append(f"| {r.rank} | {md(r.from_stage)} → {md(r.to_stage)} | {md(r.segment or 'all')} | {pct(r.drop_off_rate)} | "
                     f"{_days(r.median_days)} | {pct(r.rate)} | {md(target)} | {md(recoverable)} | "
                     f"{money(r.value_of_all_dropoffs_per_year, currency)} | {md(r.hypothesis)} | "
                     f"{_finding(f'friction:{r.rank}', status)} |")
    if not fr.rows:
        lines.append("| - | No transition loses people | | | | | | | | | |")
    return "\n".join(lines) + "\n"


def _finding(finding_id: str, status: dict[str, str]) -> str:
    return f"{markdown_code(finding_id)} {status[finding_id]}" if finding_id in status else "-"
