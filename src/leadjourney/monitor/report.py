"""The period report: a run's verdicts and its period's metrics, as Markdown and HTML in out/monitor/.

The alert e-mail carries both files as attachments; the webhook message names the Markdown file
(and links it when ``[alerts] report_url`` is set).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.escape import markdown_text as md
from leadjourney.monitor.periods import PeriodMetrics
from leadjourney.monitor.rules import RULES

if TYPE_CHECKING:
    from leadjourney.monitor.run import MonitorRun


def _fmt(x: float | None, rate: bool) -> str:
    if x is None:
        return "-"
    return f"{x:.1%}" if rate else f"{x:,.1f}"


def _rows(run: MonitorRun, metrics: Sequence[PeriodMetrics]) -> tuple[list[list[str]], list[list[str]]]:
    verdicts = [[v.status, RULES[v.rule].title, v.metric, _fmt(v.value, v.is_rate), _fmt(v.baseline, v.is_rate),
                 _fmt(v.threshold, v.is_rate), "-" if v.n is None else f"{v.n:,}", v.evidence,
                 v.action if v.raised and v.action else ""] for v in run.verdicts]
    figures = []
    for m in metrics:
        speed = "-" if m.speed_mean_minutes is None else f"{m.speed_mean_minutes:,.0f} min (n {m.speed_n:,})"
        conv = "; ".join(f"{t} {_fmt(r.rate, True)} ({r.converted:,} of {r.entered:,})" for t, r in m.transitions.items())
        figures.append([m.period.label, f"{m.n_people:,}", conv or "-", speed])
    return verdicts, figures


NOTE = ("The people created in each judged period, as of the run's date. Younger periods are still converting: "
        "the verdicts judge each transition only on periods old enough for it.")
VERDICT_COLUMNS = ("verdict", "rule", "metric", "value", "baseline", "threshold", "n", "evidence", "action")
FIGURE_COLUMNS = ("period", "new people", "conversion (people created in the period)", "speed-to-lead average")


def to_markdown(run: MonitorRun, metrics: Sequence[PeriodMetrics]) -> str:
    """The report as Markdown."""
    verdicts, figures = _rows(run, metrics)

    def table(cols: Sequence[str], rows: list[list[str]]) -> list[str]:
        cell = [[md(c) for c in r] for r in rows]
        return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols), *("| " + " | ".join(r) + " |" for r in cell)]

    p = run.period
    lines = [f"# Monitor report {p.label}", "",
             f"Run {run.run_id}, period {p.start} to {p.end}, as of {run.as_of}: **{run.status}** "
             f"(exit {run.exit_code}).", "", "## Verdicts", "", *table(VERDICT_COLUMNS, verdicts), "",
             "## Period metrics", "", NOTE, "", *table(FIGURE_COLUMNS, figures), ""]
    return "\n".join(lines)


def to_html(run: MonitorRun, metrics: Sequence[PeriodMetrics]) -> str:
    """The report as a self-contained HTML page."""
    verdicts, figures = _rows(run, metrics)
    e = html.escape

    def table(cols: Sequence[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{e(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    p = run.period
    style = ("body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Monitor report {e(p.label)}</title>"
            f"<style>{style}</style></head><body><h1>Monitor report {e(p.label)}</h1>"
            f"<p>Run {run.run_id}, period {p.start} to {p.end}, as of {run.as_of}: <b>{e(run.status)}</b> "
            f"(exit {run.exit_code}).</p><h2>Verdicts</h2>{table(VERDICT_COLUMNS, verdicts)}"
            f"<h2>Period metrics</h2><p>{e(NOTE)}</p>{table(FIGURE_COLUMNS, figures)}</body></html>\n")


def write_report(run: MonitorRun, metrics: Sequence[PeriodMetrics], out_dir: Path) -> list[Path]:
    """Write ``out_dir/monitor/<period>.md`` and ``.html``; returns both paths (Markdown first)."""
    folder = out_dir / "monitor"
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / f"{run.period.label}.md", folder / f"{run.period.label}.html"
    md.write_text(to_markdown(run, metrics), "utf-8")
    page.write_text(to_html(run, metrics), "utf-8")
    return [md, page]
