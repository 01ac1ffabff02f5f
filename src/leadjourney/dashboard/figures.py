"""Plotly figures and table rows for the dashboard, drawn from the typed results (never recomputed).

Each function takes an :class:`~leadjourney.analysis.report.Analysis` (and the baseline's), a
:class:`~leadjourney.analysis.trend.ConversionTrend` or the view's comparison rows
(:mod:`leadjourney.dashboard.comparison`) and returns a figure or rows, reading attributes only: no number is
computed and no threshold decided here. The live app and the static export share them. A figure is a plain
dict (``data``, ``layout``) as plotly.js reads it: building ``plotly.graph_objects`` figures validated every
property, 60-80 ms per page of figures where the dicts take a few; tests check the dicts equal what
graph_objects would build.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import plotly.io as pio

from leadjourney.analysis.benchmarks import Benchmark, benchmark_for
from leadjourney.analysis.friction import Friction, money
from leadjourney.analysis.kpis import PREVIOUS, Change, Tile
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.status import MetricStatus, Status
from leadjourney.analysis.trend import ConversionTrend, TrendPoint
from leadjourney.dashboard.comparison import Delta
from leadjourney.display import counted, display_name, minutes, segment_name
from leadjourney.display import percent as pct  # the one percent formatter
from leadjourney.errors import OptionError
from leadjourney.escape import html_text

BLUE, GREY, RED, GREEN, ORANGE = "#2c6fbb", "#9aa5b1", "#c0392b", "#27ae60", "#e67e22"

Figure = dict[str, Any]
Labels = Mapping[str, str] | None  # [labels] of the config: value -> the name people read


def _lean_template() -> dict[str, Any]:
    """Plotly's default look with only the parts these charts use: 1 KB in each figure instead of 6.5 KB."""
    full = pio.templates["plotly"].to_plotly_json()
    keep = ("annotationdefaults", "autotypenumbers", "colorway", "font", "hoverlabel", "hovermode", "paper_bgcolor",
            "plot_bgcolor", "shapedefaults", "title", "xaxis", "yaxis")
    return {"data": {k: full["data"][k] for k in ("bar", "scatter")}, "layout": {k: full["layout"][k] for k in keep}}


_LAYOUT: dict[str, Any] = {"template": _lean_template(), "margin": {"l": 40, "r": 20, "t": 40, "b": 40}, "height": 320,
                           "paper_bgcolor": "white", "plot_bgcolor": "white",
                           "font": {"family": "system-ui, sans-serif", "size": 12}}


def _figure(data: list[dict[str, Any]], title: str, **extra: Any) -> Figure:
    """The traces with the shared layout (``extra`` replaces its top-level keys) and the title."""
    return {"data": data, "layout": {**_LAYOUT, **extra, "title": {"text": title, "x": 0.01, "font": {"size": 15}}}}


class _Step(Protocol):
    @property
    def from_stage(self) -> str: ...
    @property
    def to_stage(self) -> str: ...


def arrow(t: _Step) -> str:
    """A transition's key as the page's controls and ids use it (raw stage names)."""
    return f"{t.from_stage}→{t.to_stage}"


def named(t: _Step, labels: Labels = None) -> str:
    """A transition as people read it: the stages' display names."""
    return f"{display_name(t.from_stage, labels)}→{display_name(t.to_stage, labels)}"


def kpis(a: Analysis) -> list[tuple[str, str, str]]:
    """(id, label, text) of the headline numbers: people and each consecutive transition's rate."""
    out = [("kpi-people", "People", f"{a.n_people:,}")]
    out += [(f"kpi-rate-{t.from_stage}-{t.to_stage}", f"{t.from_stage} → {t.to_stage}" + _status_note(t.status),
             pct(t.rate)) for t in a.funnel.transitions]
    return out


def _status_note(status: MetricStatus) -> str:
    text = status.text()
    return f" · {text}" if text else ""


def funnel(a: Analysis, labels: Labels = None) -> Figure:
    """Stage reach as a funnel; hover shows the transition rate into the stage with its 95% interval."""
    stages = a.funnel.stages
    into = {t.to_stage: t for t in a.funnel.transitions}
    hover = []
    for s in stages:
        t = into.get(s.stage)
        hover.append("first stage" if t is None or t.rate is None else
                     f"{named(t, labels)}: {pct(t.rate)} (95% CI {pct(t.ci_low)} - {pct(t.ci_high)})"
                     f"<br>{t.converted:,} of {t.entered:,}")
    trace = {"type": "funnel", "y": [display_name(s.stage, labels) for s in stages], "x": [s.reached for s in stages],
             "customdata": hover, "marker": {"color": BLUE}, "textinfo": "text",
             "text": [f"{s.reached:,}" + (f"<br>{pct(into[s.stage].rate)}" if s.stage in into else "")
                      for s in stages],
             "hovertemplate": "<b>%{y}</b>: %{x:,} reached<br>%{customdata}<extra></extra>"}
    return _figure([trace], "Conversion funnel")


def time_in_stage(a: Analysis, labels: Labels = None) -> Figure:
    """Median days per transition beside the Kaplan-Meier (censoring-aware) median."""
    rows = a.time_in_stage.rows
    names = [named(r, labels) for r in rows]
    km = [r.km_median_days if r.km_median_reached else None for r in rows]
    km_text = [f"{v:.1f}" if v is not None else "not reached" for v in km]
    bars = [
        {"type": "bar", "name": "Median of those who moved on", "x": names, "y": [r.median_days for r in rows],
         "marker": {"color": BLUE}, "text": [_days(r.median_days) for r in rows], "textposition": "outside"},
        {"type": "bar", "name": "Median counting those still waiting", "x": names, "y": km, "marker": {"color": ORANGE},
         "text": km_text, "textposition": "outside", "customdata": [r.n_censored for r in rows],
         "hovertemplate": "%{x}: %{text} days (Kaplan-Meier)<br>%{customdata:,} still waiting<extra></extra>"},
    ]
    ticks = [n.replace("→", "→<br>") for n in names]  # "Opportunity→Customer" ran into its neighbours at 1,024 px
    return _figure(bars, "Time in stage (days)", barmode="group", legend={"orientation": "h", "y": -0.25},
                   xaxis={"tickangle": 0, "tickfont": {"size": 10}, "tickmode": "array", "tickvals": names,
                          "ticktext": ticks})


def source_rows(a: Analysis, sort_by: str = "people") -> list[dict[str, Any]]:
    """One row per source: people, share and each transition's rate (``mark``: ▲/▼ when significant).

    Values stay numbers so rows sort by any column (descending; the source name ascending).
    """
    rows: dict[str, dict[str, Any]] = {d.source: {"source": d.source, "people": d.people, "share": d.share,
                                                  "marks": {}} for d in a.sources.distribution}
    for c in a.sources.conversion:
        if c.source in rows and c.entered:
            rows[c.source][arrow(c)] = c.rate
            rows[c.source]["marks"][arrow(c)] = (" ▲" if c.direction == "higher" else " ▼") if c.significant else ""
    if sort_by == "source":
        return sorted(rows.values(), key=lambda r: r["source"])
    return sorted(rows.values(), key=lambda r: -(r.get(sort_by) or 0.0))


def source_cells(row: dict[str, Any], columns: list[str], labels: Labels = None) -> list[str]:
    """A source row as display text, in ``columns`` order."""
    out = []
    for c in columns:
        value = row.get(c)
        if c == "people":
            out.append(f"{value:,}")
        elif c == "source":
            out.append(display_name(str(value), labels))
        else:
            out.append(pct(value) + row["marks"].get(c, ""))
    return out


def source_columns(a: Analysis) -> list[str]:
    """The sources table's columns (raw transition keys: the sort control's values)."""
    return ["source", "people", "share"] + [arrow(t) for t in a.funnel.transitions]


def column_header(column: str, labels: Labels = None) -> str:
    """A sources-table column as people read it (a transition's stages by their display names)."""
    if "→" not in column:
        return column
    a, _, b = column.partition("→")
    return f"{display_name(a, labels)}→{display_name(b, labels)}"


def sources(a: Analysis, top: int = 12, labels: Labels = None) -> Figure:
    """Volume (bars) and Lead→MQL→SQL rates per source; significant differences starred."""
    dist = a.sources.distribution[:top]
    names = [d.source for d in dist]
    shown = [display_name(n, labels) for n in names]
    traces: list[dict[str, Any]] = [{"type": "scatter", "name": "People", "x": shown, "y": [d.people for d in dist],
                                     "yaxis": "y2", "mode": "markers",
                                     "marker": {"color": GREY, "symbol": "diamond", "size": 10}}]
    colors = [BLUE, GREEN, ORANGE, RED]
    for i, t in enumerate(a.funnel.transitions[:2]):
        conv = {c.source: c for c in a.sources.conversion if (c.from_stage, c.to_stage) == (t.from_stage, t.to_stage)}
        ys = [conv[n].rate if n in conv and conv[n].entered else None for n in names]
        text = ["*" if n in conv and conv[n].significant else "" for n in names]
        traces.append({"type": "bar", "name": named(t, labels), "x": shown, "y": ys, "marker": {"color": colors[i % 4]},
                       "text": text, "textposition": "outside"})
    return _figure(traces, "Lead source performance (* significantly different from the other sources)", barmode="group",
                   separators=".,", yaxis={"tickformat": ".0%", "title": {"text": "conversion"}},
                   yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "title": {"text": "people"},
                           "rangemode": "tozero", "tickformat": ",d"},
                   legend={"orientation": "h", "y": -0.3})


SPEED_TICKS = (1.0, 5.0, 15.0, 60.0, 240.0, 1440.0, 4320.0, 10080.0)  # 1 min ... 1 week: the speed scale's ticks


def speed_scale(sla_minutes: float) -> tuple[float, float]:
    """The speed-to-lead scale in minutes, fixed by the SLA alone (never by the data): from a tenth of the SLA
    (at most 1 min) to a week (at least 100 SLAs), so a median of seconds and one of days both sit on it."""
    return min(sla_minutes / 10, 1.0), max(10080.0, sla_minutes * 100)


def signal_name(s: SpeedToLead) -> str:
    """What starts the speed-to-lead clock, as people say it: the stage ("MQL"), or "form fill" (not "mql")."""
    if s.signal == "mql":
        return s.signal_stage or "MQL"
    return display_name(s.signal).lower() if s.signal else "-"


def speed_to_lead(a: Analysis, sla_minutes: float) -> Figure:
    """Median and p90 response time on a fixed logarithmic scale around the SLA (:func:`speed_scale`; ticks in
    minutes, hours and days, the SLA a black line), with the within-5-min and never-contacted shares."""
    s = a.speed_to_lead
    if not s.status.shown:
        return _figure([], f"Speed-to-lead {s.status.text()}")
    low, high = speed_scale(sla_minutes)
    median = s.median_minutes
    traces: list[dict[str, Any]] = [{
        "type": "indicator", "mode": "number", "value": 0 if median is None else (median / 60 if median >= 120 else median),
        "number": {"suffix": " h" if (median or 0) >= 120 else " min", "valueformat": ",.1f" if (median or 0) < 10
                   or (median or 0) >= 120 else ",.0f", "font": {"size": 30,
                   "color": GREEN if median is not None and median <= sla_minutes else RED}},
        "title": {"text": f"Median to first touch (SLA {minutes(sla_minutes)})", "font": {"size": 13}},
        "domain": {"x": [0, 0.34], "y": [0.5, 1]}}]
    for i, (label, share) in enumerate((("Within 5 min", s.share_within_5_min),
                                        ("Never contacted", s.never_contacted_share))):
        traces.append({"type": "indicator", "mode": "number", "value": (share or 0) * 100,
                       "number": {"suffix": "%", "valueformat": ".1f", "font": {"size": 30}},
                       "title": {"text": label, "font": {"size": 13}},
                       "domain": {"x": [0.36 + 0.33 * i, 0.66 + 0.33 * i], "y": [0.5, 1]}})
    bars = [(name, v) for name, v in (("median", median), ("p90", s.p90_minutes)) if v is not None]
    clipped = [min(max(v, low), high) for _, v in bars]
    traces.append({"type": "bar", "orientation": "h", "y": [n for n, _ in bars], "x": clipped,
                   "base": [low] * len(bars),  # bars start at the scale's left end (a log axis has no zero)
                   "marker": {"color": [GREEN if v <= sla_minutes else RED for _, v in bars]},
                   "text": [minutes(v) + (" (off the scale)" if v > high else "") for _, v in bars],
                   "textposition": "auto", "hoverinfo": "skip", "showlegend": False})
    ticks = sorted({*[t for t in SPEED_TICKS if low <= t <= high], sla_minutes})
    sla_line = {"type": "line", "xref": "x", "x0": sla_minutes, "x1": sla_minutes, "yref": "y domain", "y0": 0,
                "y1": 1.15, "line": {"color": "black", "width": 3}}  # from the axis up: clear of its tick label
    return _figure(traces, f"Speed-to-lead (from {signal_name(s)}){_status_note(s.status)}",
                   xaxis={"type": "log", "range": [math.log10(low), math.log10(high)], "tickvals": ticks,
                          "ticktext": [("SLA " if t == sla_minutes else "") + _duration_tick(t) for t in ticks],
                          "domain": [0.08, 1], "fixedrange": True},
                   yaxis={"domain": [0, 0.32], "fixedrange": True, "autorange": "reversed"},
                   shapes=[sla_line], showlegend=False)


def _duration_tick(value: float) -> str:
    """A tick of the speed scale: "30 s", "5 min", "4 h", "3 d", "1 w"."""
    if value < 1:
        return f"{value * 60:.0f} s"
    if value < 60:
        return f"{value:g} min"
    if value < 1440:
        return f"{value / 60:g} h"
    if value < 10080:
        return f"{value / 1440:g} d"
    return f"{value / 10080:g} w"


def change_text(c: Change, days: float | None) -> tuple[str, str]:
    """(text, class) of one change on a tile: "▲ 12.3% vs previous 90 days" coloured by direction when judged,
    grey (class "flat") within noise, which the tile's tooltip and the line under the band say (on the tile,
    ", within noise" wrapped a 1,440 px band's tile to a second line); otherwise what the analysis says
    (``MetricStatus.text()``), never a number that is not judged."""
    against = (f"previous {days:,.0f} days" if c.against == PREVIOUS and days else c.against)
    if not c.status.judged or c.ratio is None:
        reason = c.status.text() or "no change to show: nothing in the other period"
        return f"vs {against}: {reason}", "na"
    arrow_mark = {"up": "▲", "down": "▼", "flat": "▶"}[c.direction]
    if c.within_noise:
        return f"{arrow_mark} {c.ratio:+.1%} vs {against}", "flat"
    return f"{arrow_mark} {c.ratio:+.1%} vs {against}", c.direction


def tile_value(t: Tile) -> str:
    """A tile's figure as people read it: a count with separators, money rounded; the status when withheld."""
    if t.value is None:
        return "-"
    return f"{int(t.value):,}" if t.kind == "count" else money(t.value, t.currency)


def _unjudged(c: Change) -> bool:
    return not c.status.judged or c.ratio is None


def _tile_name(t: Tile, labels: Labels) -> str:
    return display_name(t.name, labels) if t.key.startswith("stage:") else t.name


class Note(NamedTuple):
    """A change not judged, said under the band: its full text, the tiles' reasons, its side, the tiles (none:
    every tile, the one reason in ``text``)."""

    text: str
    why: str
    side: str
    tiles: tuple[str, ...]


def _change_notes(tiles: Sequence[Tile], days: float | None,
                  labels: Labels) -> tuple[list[Note], dict[tuple[int, int], str]]:
    """Changes not judged, said once under the band instead of in grey on each tile: one reason shared by
    every tile in full ("Change vs previous period: no date range chosen ..."); otherwise, per side and kind
    ("too young to judge"), one line naming the tiles, each tile's reason in the line's and the tile's
    tooltip (a kind on a single tile stays on it). Returns the notes and the changes taken off the tiles,
    (tile, side) -> the reason for the tile's tooltip ("" when the note says it in full)."""
    notes: list[Note] = []
    taken: dict[tuple[int, int], str] = {}
    for i, label in enumerate(("previous period", "baseline")):
        unjudged = [(k, t.changes[i]) for k, t in enumerate(tiles) if len(t.changes) > i and _unjudged(t.changes[i])]
        reasons = {change_text(c, days)[0].split(": ", 1)[1] for _, c in unjudged}
        if tiles and len(unjudged) == len(tiles) and len(reasons) == 1:
            notes.append(Note(f"Change vs {label}: {reasons.pop()}", "", label, ()))
            taken.update({(k, i): "" for k, _ in unjudged})
            continue
        kinds: dict[str, list[tuple[int, Change]]] = {}
        for k, c in unjudged:
            kinds.setdefault(c.status.text().partition(":")[0] or "no change to show", []).append((k, c))
        for kind, group in kinds.items():
            if len(group) < 2:
                continue
            why = {(k, i): change_text(c, days)[0] for k, c in group}
            names = tuple(_tile_name(tiles[k], labels) for k, _ in group)
            notes.append(Note(f"Change vs {label}: {kind} for {', '.join(names)}",
                              "\n".join(f"{_tile_name(tiles[k], labels)}: {text}" for (k, _), text in why.items()),
                              label, names))
            taken.update(why)
    return notes, taken


def kpi_tiles(tiles: Sequence[Tile], days: float | None, labels: Labels = None) -> str:
    """The header's tiles as one HTML string (every text escaped): per tile its name, figure, the detail (a
    stage's rate from the stage before, the deals behind money) and its judged changes; changes not judged
    are said once under the band (:func:`_change_notes`), their reasons in the tooltips."""
    notes, taken = _change_notes(tiles, days, labels)
    out = []
    for k, t in enumerate(tiles):
        ident = "kpi-people" if t.key == f"stage:{tiles[0].name}" else f"kpi-{t.key.replace(':', '-')}"
        if t.rate is not None:
            rate_id = f"kpi-rate-{t.rate.from_stage}-{t.rate.to_stage}"
            note = t.rate.status.text()
            detail = (f'<span id="{html_text(rate_id)}" title="{html_text(note)}">{html_text(pct(t.rate.rate))}'
                      f'</span> from {html_text(display_name(t.rate.from_stage, labels))}'
                      + (f'<span class="why"> · {html_text(note.partition(":")[0])}</span>' if note else ""))
        elif t.kind == "money":
            what = "open deals" if t.key == "pipeline" else "won deals"
            detail = html_text(f"{t.n:,} {what}" if t.status.shown else t.status.text())
        else:
            detail = "people"
        shown = [(i, c) for i, c in enumerate(t.changes) if (k, i) not in taken]
        changes = "".join(f'<div class="c {cls}"{_title(NOISE if _noise(c) else "")}>'
                          f'{html_text(_short(text) if _unjudged(c) else text)}</div>'
                          for i, c in shown for text, cls in [change_text(c, days)])
        why = "\n".join([*(taken[k, i] for i in range(len(t.changes)) if taken.get((k, i))),
                         *(change_text(c, days)[0] for _, c in shown if _unjudged(c))])
        out.append(f'<div class="kpi" id="tile-{html_text(t.key.replace(":", "-"))}"{_title(why)}><div class="l">'
                   f'{html_text(_tile_name(t, labels))}</div><div class="v" id="{html_text(ident)}">'
                   f'{html_text(tile_value(t))}</div><div class="d">{detail}</div>{changes}</div>')
    text, tip = change_summary(notes)
    line = f'<div class="kpi-note"{_title(tip)}>{html_text(text)}</div>' if text else ""
    if any(_noise(c) for k, t in enumerate(tiles) for i, c in enumerate(t.changes) if (k, i) not in taken):
        line += f'<div class="kpi-noise"{_title(NOISE)}>{html_text(NOISE_NOTE)}</div>'
    return f'<div class="tiles">{"".join(out)}</div><div class="kpi-notes">{line}</div>'


NOISE = "within noise: a change this size happens by chance (95%), so it is not a real change"
NOISE_NOTE = "Grey changes: within noise"  # beside the line of changes not judged, which stays short


def _noise(c: Change) -> bool:
    return not _unjudged(c) and c.within_noise


def _short(text: str) -> str:
    """A change not judged on its tile, in one short line: "vs baseline: too few to judge" (the reason, "14
    deals in the baseline, fewer than min_n = 30", in the tile's tooltip)."""
    side, _, reason = text.partition(": ")
    return f"{side}: {reason.partition(':')[0]}" if reason else text


def change_summary(notes: Sequence[Note]) -> tuple[str, str]:
    """The notes of :func:`_change_notes` as one short line under the band ("Changes not judged: vs previous
    period for every tile · vs baseline for 6 tiles") and its tooltip, every note and reason in full."""
    sides: dict[str, list[str]] = {}
    for n in notes:
        sides.setdefault(n.side, []).extend(n.tiles or ["*"])
    parts = [f"vs {side} for " + ("every tile" if "*" in names else ", ".join(names) if len(names) <= 2
                                  else f"{len(names)} tiles") for side, names in sides.items()]
    if not parts:
        return "", ""
    tip = "\n".join(n.text + (f"\n{n.why}" if n.why else "") for n in notes)
    return f"Changes not judged: {' · '.join(parts)} (hover for why)", tip


def _title(tip: str) -> str:
    return f' title="{html_text(tip)}"' if tip else ""


def period_label(a: Analysis) -> str:
    """Which leads an analysis covers: creation dates, as-of date and people, e.g. ``created 2026-03-01 to
    2026-04-30, as of 2026-06-29, n 812``."""
    start, end = a.filters.date_from, a.filters.date_to
    dates = (f"created {start} to {end}" if start and end else f"created from {start}" if start
             else f"created until {end}" if end else "all creation dates")
    as_of = a.time_in_stage.as_of
    return f"{dates}, as of {'-' if as_of is None else f'{as_of:%Y-%m-%d}'}, n {a.n_people:,}"


def period_comparison(rows: Sequence[Delta], a: Analysis | None = None, base: Analysis | None = None, *,
                      points: float) -> Figure:
    """Deltas vs the baseline in percentage points (the view's comparison rows); red where the rows say so,
    the dotted line ``points`` (``[monitor] decline_points``) below zero.

    With the two analyses, the title says what is compared: each side's creation dates, as-of and n.
    """
    bar = {"type": "bar", "x": [r.transition for r in rows], "y": [r.delta_pp for r in rows],
           "marker": {"color": [RED if r.red else GREY if r.note else GREEN if (r.delta_pp or 0) >= 0
                                else GREY for r in rows]},
           "text": [("-" if r.delta_pp is None else f"{r.delta_pp:+.1f} pp") + (" (too few)" if r.too_few else "")
                    for r in rows],
           "textposition": "outside",
           "customdata": [[pct(r.current), pct(r.baseline), r.current_n, r.baseline_n] for r in rows],
           "hovertemplate": "%{x}: now %{customdata[0]} of %{customdata[2]:,}, "
                            "baseline %{customdata[1]} of %{customdata[3]:,}<extra></extra>"}
    red_line = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": -points,
                "y1": -points, "line": {"color": RED, "dash": "dot"}}  # what add_hline draws
    title = "Period vs baseline (pp)" if rows else "Period vs baseline: no baseline snapshot yet"
    if rows and a is not None and base is not None:
        title += f"<br><sup>now: {period_label(a)}<br>baseline: {period_label(base)}</sup>"
    values = [abs(r.delta_pp) for r in rows if r.delta_pp is not None]
    span = max([points * 2, *values]) * 1.2
    return _figure([bar], title, yaxis={"ticksuffix": " pp", "zeroline": True, "range": [-span, span]},
                   margin={**_LAYOUT["margin"], "t": 80 if a is not None and base is not None else 40},
                   shapes=[red_line])


def prose_html(text: str) -> str:
    """The dashboard's own prose escaped, a command written between backticks (as the terminal and Markdown
    say it) shown as code, not as backticks. Not for values from data: those stay as written (html_text)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_text(text))


def html_table(columns: list[str], rows: list[list[str]], *, row_ids: str | None = None) -> str:
    """A plain HTML table, every cell escaped; with ``row_ids`` each body row gets the id ``row_ids`` + its first
    cell (→ as -). One line: the live page shows it as one HTML block, the export inlines it."""
    def tr(r: list[str]) -> str:
        rid = f' id="{html_text(row_ids + r[0].replace("→", "-"))}"' if row_ids and r else ""
        return f"<tr{rid}>" + "".join(f"<td>{html_text(str(v))}</td>" for v in r) + "</tr>"

    head = "".join(f"<th>{html_text(c)}</th>" for c in columns)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(tr(r) for r in rows)}</tbody></table>"


def friction_rows(a: Analysis, top: int = 10, labels: Labels = None) -> list[dict[str, Any]]:
    """The top friction rows: recoverable revenue against its named target, the upper bound beside it."""
    fr = a.friction
    cur, per = fr.currency, fr.per
    out = []
    for r in fr.rows[:top]:
        recoverable = r.recoverable_per_year
        out.append({"rank": r.rank, "transition": named(r, labels), "segment": segment_name(r.segment, labels),
                    "drop-off": pct(r.drop_off_rate),
                    f"recoverable / {per}": (money(recoverable, cur) if recoverable is not None
                                             else f"- ({r.recoverable_text()})"),  # the status, as said everywhere
                    "target": (f"{pct(r.target_rate)} ({r.target_source})" if r.target_rate is not None
                               else r.target_source),
                    f"all drop-offs / {per} (upper bound)": money(r.value_of_all_dropoffs_per_year, cur),
                    "hypothesis": r.hypothesis})
    return out


def friction_summary(a: Analysis) -> str:
    """Bookings beside the recoverable revenue, and the default deal size's warning: the friction card's title."""
    fr: Friction = a.friction
    cur, per = fr.currency, fr.per
    bookings = fr.bookings_per_year
    text = (f"bookings {money(bookings, cur) if bookings is not None else '-'}/{per} · recoverable "
            f"{money(fr.total_recoverable(), cur)}/{per} at whole transitions")
    segments = [r for r in fr.rows if r.segment is not None and r.recoverable_per_year]
    if segments:  # "$0 at the transitions" alone read as nothing to gain while a segment loses $63k
        top = max(segments, key=lambda r: r.recoverable_per_year or 0.0)
        text += (f", {money(top.recoverable_per_year, cur)}/{per} in the largest segment gap "
                 f"({segment_name(top.segment)}, {display_name(top.from_stage)}→{display_name(top.to_stage)})")
    if fr.deal_size_warning:
        text += f" · WARNING: {fr.deal_size_warning}"
    return text


def dark_text(a: Analysis) -> str:
    d = a.dark_leads
    if not d.status.shown:
        return f"Dark leads {d.status.text()}"
    return (f"{d.n_dark:,} dark leads of {d.n_open:,} open ({pct(d.dark_share)}), "
            f"silent {d.dark_after_days}+ days{_status_note(d.status)}")


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _projected(name: str, color: str, rows: list[TrendPoint], flip: Any, drop: bool) -> list[dict[str, Any]]:
    """Young periods' projected final conversion: a dotted line from the last judged period, diamonds with the
    projection's interval; drawn apart from the observed line (see :mod:`leadjourney.analysis.projection`)."""
    young = [(p, p.projected) for p in rows if p.status.status is Status.YOUNG and p.projected is not None
             and p.projected.rate is not None]  # too few people: no projection drawn
    if not young:
        return []
    settled = [p for p in rows if not p.young and p.rate is not None]
    anchor = settled[-1:] if settled else []
    x = [p.period.isoformat() for p in anchor] + [p.period.isoformat() for p, _ in young]
    y = [flip(p.rate) for p in anchor] + [flip(f.rate) for _, f in young]
    low = [flip(f.ci_high if drop else f.ci_low) for _, f in young]
    high = [flip(f.ci_low if drop else f.ci_high) for _, f in young]
    ys = y[len(anchor):]
    hover = [""] * len(anchor) + [
        f"projected final {pct(f.rate)} (95% {pct(f.ci_low)} - {pct(f.ci_high)}); observed so far {pct(p.rate)}, "
        f"{f.waiting:,} still waiting<br><i>estimate from the mature periods' time to convert</i>" for p, f in young]
    return [{"type": "scatter", "name": f"projected {name}", "legendgroup": name, "x": x, "y": y,
             "mode": "lines+markers", "line": {"color": color, "dash": "dot", "width": 2}, "customdata": hover,
             "marker": {"color": color, "size": [0] * len(anchor) + [9] * len(young), "symbol": "diamond-open"},
             "error_y": {"type": "data", "symmetric": False, "thickness": 1, "width": 2, "color": color,
                         "array": [None] * len(anchor) + [h - v for v, h in zip(ys, high, strict=True)],
                         "arrayminus": [None] * len(anchor) + [v - lo for v, lo in zip(ys, low, strict=True)]},
             "hovertemplate": f"<b>projected {name}</b> %{{x}}: %{{y:.1%}}<br>%{{customdata}}<extra></extra>"}]


MEASURES = ("conversion", "drop-off")
_METRIC = {"conversion": "conversion_rate", "drop-off": "drop_off_rate"}
_TRACE_COLORS = [BLUE, GREEN, ORANGE, RED, "#8e44ad", "#16a085"]


def trend(t: ConversionTrend | None, base: Analysis | None, benchmarks: tuple[Benchmark, ...] = (), *,
          measure: str = "conversion", source: str | None = None) -> Figure:
    """Conversion (or drop-off) per transition by creation period, with the baseline and benchmarks as references.

    One line per transition (95% interval as error bars; young periods as open markers, their hover saying
    so); per transition a dashed line at the baseline snapshot's rate, and a dotted band per benchmark that
    applies (``source``: the one source filtered on, for by-source benchmarks). No trend: an empty figure.
    """
    if measure not in MEASURES:
        raise OptionError(f"trend measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    drop = measure == "drop-off"

    def flip(v: float | None) -> float | None:
        return None if v is None else (1 - v if drop else v)

    as_of = None if t is None else t.as_of
    end = "9999" if as_of is None else f"{as_of:%Y-%m-%d}"  # leads dated after the data's end would stretch the axis
    every = [] if t is None else t.points
    points = [p for p in every if as_of is None or p.period <= as_of.date()]
    hidden = {p.period for p in every} - {p.period for p in points}
    names = list(dict.fromkeys(arrow(p) for p in points))
    periods = sorted({p.period.isoformat() for p in points})
    span = [periods[0], periods[-1]] if periods else []
    before = {arrow(x): x.rate for x in base.funnel.transitions} if base else {}
    traces: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        color = _TRACE_COLORS[i % len(_TRACE_COLORS)]
        rows = [p for p in points if arrow(p) == name]
        y = [flip(p.rate) for p in rows]
        lows = [flip(p.ci_high if drop else p.ci_low) for p in rows]
        highs = [flip(p.ci_low if drop else p.ci_high) for p in rows]
        hover = [f"{p.converted:,} of {p.entered:,} converted (95% CI {pct(lo)} - {pct(hi)})"
                 + (f"<br><i>{p.status.text()}</i>" if not p.status.judged else "")
                 + (f"<br><i>young: created under {_maturity_days(t, p)} days before the data's end; may still "
                    "convert</i>" if p.young and p.status.status is not Status.YOUNG else "")
                 + ("" if p.young or not p.status.judged else "<br>old enough to judge")
                 for p, lo, hi in zip(rows, lows, highs, strict=True)]
        traces.append({
            "type": "scatter", "name": name, "legendgroup": name, "x": [p.period.isoformat() for p in rows], "y": y,
            "mode": "lines+markers", "line": {"color": color}, "customdata": hover,
            "marker": {"color": color, "size": 8, "symbol": ["circle-open" if p.young else "circle" for p in rows]},
            "error_y": {"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                        "array": [None if v is None or h is None else h - v for v, h in zip(y, highs, strict=True)],
                        "arrayminus": [None if v is None or lo is None else v - lo
                                       for v, lo in zip(y, lows, strict=True)]},
            "hovertemplate": f"<b>{name}</b> %{{x}}: %{{y:.1%}}<br>%{{customdata}}<extra></extra>"})
        traces += _projected(name, color, rows, flip, drop)
        b = flip(before.get(name))
        if b is not None and span:
            traces.append({"type": "scatter", "name": f"baseline {name}", "legendgroup": name, "x": span, "y": [b, b],
                           "mode": "lines", "line": {"color": color, "dash": "dash", "width": 1},
                           "hovertemplate": f"baseline {name}: {pct(b)}<extra></extra>"})
        for bm in benchmark_for(_METRIC[measure], name.replace("→", "->"), source, benchmarks=benchmarks):
            if not span:
                continue
            traces.append({"type": "scatter", "name": f"benchmark {name}: {bm.text()}", "legendgroup": name,
                           "mode": "lines", "x": [span[0], span[1], span[1], span[0], span[0]],
                           "y": [bm.low, bm.low, bm.high, bm.high, bm.low], "fill": "toself", "opacity": 0.5,
                           "line": {"color": GREY, "dash": "dot", "width": 1},
                           "hovertemplate": f"benchmark {name}: {bm.text()}<br>{bm.label}<extra></extra>"})
    title = (f"Drop-off trend: {measure} by creation {'period' if t is None else t.period} (open: young, dotted "
             "diamonds: projected final; dashed: baseline, band: benchmark)")
    if hidden:
        title += f"<br><sup>{counted(len(hidden), 'period')} after the data's end ({end}) not shown</sup>"
    return _figure(traces, title, yaxis={"tickformat": ".0%", "rangemode": "tozero"},
                   xaxis={"type": "date"}, legend={"orientation": "h", "y": -0.25, "font": {"size": 10}},
                   height=380)


def _maturity_days(trend: ConversionTrend | None, point: TrendPoint) -> int | None:
    """Days the point's transition needs before a period is judged (the trend's maturity)."""
    need = None if trend is None else trend.maturity.get(f"{point.from_stage}->{point.to_stage}")
    return None if need is None else need.days
