"""The period report: a run's verdicts and its period's metrics, as Markdown and HTML in out/monitor/.

Written for the VP first: the engagement's name, the run in a few words, one coloured status line per
check with its one-line reason (:mod:`leadjourney.monitor.readable`), what to do; then the analyst's
detail (each check's value, baseline, line, people and evidence) and the period metrics. The HTML is the
documents' page (:mod:`leadjourney.reports.html_writer`) in the engagement's colour, with no file paths.
The alert e-mail carries both files as attachments; the webhook message names the Markdown file
(and links it when ``[alerts] report_url`` is set).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.display import count, minutes, percent
from leadjourney.escape import markdown_text as md
from leadjourney.monitor.periods import PeriodMetrics
from leadjourney.monitor.readable import Readable, arrow, figure, headline, period_name, ranked
from leadjourney.monitor.rules import RULES

if TYPE_CHECKING:
    from leadjourney.config import Config
    from leadjourney.monitor.run import MonitorRun

DEFAULT_COLOR = "#1A73E8"
NOTE = ("The people created in each judged period, as of the run's date. Younger periods are still converting: "
        "the verdicts judge each transition only on periods old enough for it.")
DETAIL_COLUMNS = ("Check", "Rule", "Status", "Value", "Baseline", "Line", "People", "Evidence")
FIGURE_COLUMNS = ("Period", "New people", "Conversion (people created in the period)", "Speed-to-lead average")
_GLANCE = "LJ-MONITOR-AT-A-GLANCE"  # where the HTML's coloured status lines go


@dataclass(frozen=True)
class Style:
    """What the report takes from the workspace: the engagement's name, colour and display names."""

    name: str = "Inbound lead journey"
    color: str = DEFAULT_COLOR
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config | None) -> Style:
        if config is None:
            return cls()
        return cls(config.name, config.brand_color, dict(config.labels))


def _when(run: MonitorRun) -> str:
    p = run.period
    span = f"{p.start:%-d %B} to {p.end:%-d %B %Y}" if p.start.year == p.end.year else f"{p.start} to {p.end}"
    return f"leads created {span}, judged on {run.as_of:%-d %B %Y} (run {run.run_id})"


def _figures(metrics: Sequence[PeriodMetrics], style: Style) -> list[list[str]]:
    rows = []
    for m in metrics:
        speed = "-" if m.speed_mean_minutes is None else f"{minutes(m.speed_mean_minutes)} ({count(m.speed_n)} people)"
        conv = "; ".join(f"{arrow(t, style.labels)} {percent(r.rate)} ({count(r.converted)} of {count(r.entered)})"
                         for t, r in m.transitions.items())
        rows.append([period_name(m.period.label), count(m.n_people), conv or "-", speed])
    return rows


def _detail(lines: Sequence[Readable]) -> list[list[str]]:
    return [[r.subject, RULES[r.verdict.rule].title, r.label, figure(r.verdict, r.verdict.value), figure(r.verdict, r.verdict.baseline),
             figure(r.verdict, r.verdict.threshold), "-" if r.verdict.n is None else count(r.verdict.n),
             r.verdict.evidence] for r in lines]


def _table(cols: Sequence[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
            *("| " + " | ".join(md(c) for c in r) + " |" for r in rows)]


def _markdown(run: MonitorRun, metrics: Sequence[PeriodMetrics], style: Style, glance: list[str]) -> str:
    lines = ranked(run.verdicts, style.labels)
    todo = [f"- **{md(r.subject)}:** {md(r.verdict.action)}" for r in lines if r.verdict.notified and r.verdict.action]
    out = [f"# {md(style.name)}: monitor report, {period_name(run.period.label)}", "",
           f"**{md(headline(run.verdicts))}** · {_when(run)}.", "", "## At a glance", "", *glance, ""]
    if todo:
        out += ["## What to do", "", *todo, ""]
    out += ["## The checks in detail", "", *_table(DETAIL_COLUMNS, _detail(lines)), "",
            "## Period metrics", "", NOTE, "", *_table(FIGURE_COLUMNS, _figures(metrics, style)), ""]
    return "\n".join(out)


def to_markdown(run: MonitorRun, metrics: Sequence[PeriodMetrics], style: Style | None = None) -> str:
    """The report as Markdown: a status line per check ("**Red flag** · MQL → SQL conversion: ...")."""
    style = style or Style()
    glance = [f"- **{md(r.label)}** · {md(r.subject)}: {md(r.reason)}" for r in ranked(run.verdicts, style.labels)]
    return _markdown(run, metrics, style, glance)


def _css(color: str) -> str:
    return (f"<style>h1{{color:{color};border-bottom-color:{color}}}h2{{color:{color}}}"
            f"th{{background:{color};color:#fff}}"
            ".glance{list-style:none;padding:0;margin:.6rem 0 1.2rem}"
            ".glance li{display:flex;gap:.8rem;align-items:baseline;padding:.45rem .2rem;"
            "border-bottom:1px solid #EEE}"
            ".status{flex:0 0 9.5rem;font-weight:700;font-size:.85rem;color:#fff;border-radius:4px;"
            "padding:.15rem .5rem;text-align:center}"
            ".subject{font-weight:600}.reason{color:#3C4043}"
            "h2+table td:nth-child(n+3):nth-child(-n+7){white-space:nowrap}</style>")  # the detail's figures


def to_html(run: MonitorRun, metrics: Sequence[PeriodMetrics], style: Style | None = None) -> str:
    """The report as a self-contained HTML page in the documents' style: coloured status lines first."""
    from leadjourney.reports.html_writer import to_html as page

    style = style or Style()
    e = html.escape
    color = style.color if re.fullmatch(r"#[0-9A-Fa-f]{6}", style.color) else DEFAULT_COLOR
    items = "".join(
        f'<li data-status="{e(r.verdict.status)}"><span class="status" style="background:{r.color}">{e(r.label)}'
        f'</span><span><span class="subject">{e(r.subject)}</span>: <span class="reason">{e(r.reason)}</span>'
        f"</span></li>" for r in ranked(run.verdicts, style.labels))
    markdown = _markdown(run, metrics, style, [_GLANCE])
    footer = f"leadjourney monitor · {style.name} · run {run.run_id} · {period_name(run.period.label)}"
    out = page(f"{style.name}: monitor report, {period_name(run.period.label)}", markdown, {}, footer)
    out = out.replace(f"<p>{_GLANCE}</p>", f'<ul class="glance">{items}</ul>', 1)
    return out.replace("</head>", _css(color) + "</head>", 1)


def write_report(run: MonitorRun, metrics: Sequence[PeriodMetrics], out_dir: Path,
                 config: Config | None = None) -> list[Path]:
    """Write ``out_dir/monitor/<period>.md`` and ``.html``; returns both paths (Markdown first)."""
    style = Style.of(config)
    folder = out_dir / "monitor"
    folder.mkdir(parents=True, exist_ok=True)
    md_file, page = folder / f"{run.period.label}.md", folder / f"{run.period.label}.html"
    md_file.write_text(to_markdown(run, metrics, style), "utf-8")
    page.write_text(to_html(run, metrics, style), "utf-8")
    return [md_file, page]
