"""The impact/effort matrix: one layout drawn as SVG and PNG (no browser), plus interactive Plotly HTML.

Effort (hours, the midpoint of the typical range, with the range as a bar) across,
revenue at stake per year up; the quick-win line at 5 hours and the impact line at the
recommendations' median revenue split it into quick wins, major projects, fill-ins and
thankless tasks. Each bubble is a recommendation, numbered by rank and labelled.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from leadjourney.escape import xml_escaped
from leadjourney.journeymap.text import (
    ELLIPSIS,
    FALLBACK_FAMILIES,
    FONT_FAMILY,
    drawable,
    font,
    font_base64,
    measure,
    money,
    wrap,
)
from leadjourney.reports.document import (
    FILL_INS,
    MAJOR_PROJECTS,
    QUICK_WIN_HOURS,
    QUICK_WINS,
    THANKLESS,
)
from leadjourney.reports.people import humanize

if TYPE_CHECKING:
    from leadjourney.reports.recommendations import Recommendation, Recommendations

MAX_LEGEND = 24
QUADRANT_FILL = {QUICK_WINS: "#E6F4EA", MAJOR_PROJECTS: "#E8F0FE", FILL_INS: "#F1F3F4", THANKLESS: "#FCE8E6"}
BUBBLE = {QUICK_WINS: "#1E8E3E", MAJOR_PROJECTS: "#1A73E8", FILL_INS: "#80868B", THANKLESS: "#D93025"}
INK, GRID = "#202124", "#BDC1C6"
NONE_BAND = 36.0  # px at the bottom of the plot for recommendations without revenue of their own
Scale = Callable[[float], float]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Frame:
    """The picture's size, its plot (left, top, right, bottom) and where its legend starts (None: no legend,
    the document or slide lists the ranks beside the picture in its own text)."""

    width: float
    height: float
    plot: Box
    legend_x: float | None


# the analyst's files (SVG, PNG beside the HTML): plot and legend in one picture
WIDE = Frame(1040, 640, (90.0, 70.0, 640.0, 560.0), 670.0)
# the deck's and Word's picture: small enough that its 11 px text is 9 pt or more where it is placed (a
# portrait page's 6.5 in width, a slide's 5.5 in height); the ranks are listed in slide or document text
COMPACT = Frame(560, 470, (78.0, 58.0, 544.0, 408.0), None)


@dataclass(frozen=True)
class Shape:
    """A primitive both renderers draw: rect (x, y, w, h), line (x, y to w, h), circle (x, y, radius w), text."""

    kind: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    fill: str | None = None
    stroke: str | None = None
    width: float = 1.0
    text: str = ""
    size: float = 12.0
    anchor: str = "start"  # start, middle, end; y is the baseline
    bold: bool = False
    role: str = ""  # "bubble", "rank", "label", "legend": a class in the SVG


@dataclass
class MatrixLayout:
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)


def _nice(top: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``top``."""
    if top <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(top))
    return next(m * k for m in (1, 2, 2.5, 5, 10) if m * k >= top)


def x_max(recs: Recommendations) -> float:
    return _nice(max([10.0, *(r.hours_high * 1.1 for r in recs.items)]))


def y_decades(recs: Recommendations) -> tuple[int, int]:
    """The revenue axis (log): from 10^lo to 10^hi, covering every revenue and the impact line."""
    values = [v for v in [recs.impact_line, *(r.revenue or 0.0 for r in recs.items)] if v > 0]
    if not values:
        return 0, 1
    lo, hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values) * 1.05))
    return lo, max(hi, lo + 1)


def layout(recs: Recommendations, labels: Mapping[str, str] | None = None, frame: Frame = WIDE) -> MatrixLayout:
    """Positions of every axis, quadrant, bubble, label and legend line; titles named for people (``labels``).
    Recommendations without revenue of their own are counted in one line in the strip at the bottom (they
    would stack as a row of bubbles on the axis); the legend, or the text beside the picture, lists them."""
    left, top, right, bottom = plot = frame.plot
    axis_bottom = bottom - NONE_BAND  # below it: recommendations without revenue of their own
    xm, (lo, hi) = x_max(recs), y_decades(recs)

    def sx(h: float) -> float:
        return left + (right - left) * h / xm

    def sy(v: float) -> float:
        if v <= 0:
            return bottom - NONE_BAND / 2
        return axis_bottom - (axis_bottom - top) * (math.log10(v) - lo) / (hi - lo)

    out = MatrixLayout(frame.width, frame.height)
    s = out.shapes
    s.append(Shape("rect", 0, 0, frame.width, frame.height, fill="#FFFFFF"))
    s.append(Shape("text", left, 32, text=f"Impact / effort: {recs.name}", size=18, bold=True, fill=INK))
    xq = sx(QUICK_WIN_HOURS)
    yq = sy(recs.impact_line) if recs.impact_line > 0 else (top + axis_bottom) / 2
    taken: list[Box] = []
    for name, (x0, y0, x1, y1) in {QUICK_WINS: (left, top, xq, yq), MAJOR_PROJECTS: (xq, top, right, yq),
                                   FILL_INS: (left, yq, xq, axis_bottom), THANKLESS: (xq, yq, right, axis_bottom)}.items():
        s.append(Shape("rect", x0, y0, x1 - x0, y1 - y0, fill=QUADRANT_FILL[name]))
        anchor, tx = ("start", x0 + 8) if x0 == left else ("end", x1 - 8)
        ty = y0 + 18  # at the top of each quadrant: the "none" strip at the bottom stays free
        s.append(Shape("text", tx, ty, text=name.upper(), size=11, anchor=anchor, bold=True, fill="#5F6368"))
        w = measure(name.upper(), 11, True)
        taken.append((tx - (w if anchor == "end" else 0), ty - 11, tx + (0 if anchor == "end" else w), ty + 3))
    for i in range(6):
        h = xm * i / 5
        s.append(Shape("line", sx(h), bottom, sx(h), bottom + 5, stroke=INK))
        s.append(Shape("text", sx(h), bottom + 20, text=f"{h:g}", size=11, anchor="middle", fill=INK))
    for v in _y_ticks(lo, hi):
        s.append(Shape("line", left - 5, sy(v), left, sy(v), stroke=INK))
        s.append(Shape("text", left - 8, sy(v) + 4, text=money(v, "").strip(), size=11, anchor="end", fill=INK))
    s.append(Shape("text", left - 8, sy(0) + 4, text="none", size=11, anchor="end", fill=INK))
    dividers = [Shape("line", left, axis_bottom, right, axis_bottom, stroke=GRID, width=1, role="divider"),
                Shape("line", xq, top, xq, axis_bottom, stroke="#5F6368", width=1.5, role="divider"),
                Shape("line", left, yq, right, yq, stroke="#5F6368", width=1.5, role="divider")]
    s += dividers
    taken += [box_of(d) for d in dividers]  # no label across a quadrant's edge
    s.append(Shape("rect", left, top, right - left, bottom - top, stroke=INK, width=1.2))
    s.append(Shape("text", (left + right) / 2, bottom + 44, text="Effort (hours; bar = typical range)", size=12,
                   anchor="middle", fill=INK))
    s.append(Shape("text", left, top - 10, text=f"Recoverable revenue at stake {_per(recs)} ({recs.currency}, log scale)",
                   size=12, fill=INK))
    titles = {r.id: humanize(r.title, labels) for r in recs.items}
    s += _bubbles([r for r in recs.items if r.revenue], sx, sy, taken, titles, plot)
    s += _unpriced([r for r in recs.items if not r.revenue], left, right, bottom - NONE_BAND / 2 + 4)
    if frame.legend_x is not None:
        s += _legend(recs.items, titles, frame)
    return out


def _unpriced(items: list[Recommendation], left: float, right: float, baseline: float) -> list[Shape]:
    """One line in the bottom strip counting the recommendations without revenue, with their ranks when
    those fit."""
    if not items:
        return []
    n = len(items)
    text = f"No revenue attached: {n} action{'s' if n > 1 else ''}"
    ranked = f"{text} (ranks {', '.join(str(r.rank) for r in items)})"
    text = ranked if measure(ranked, 11) <= right - left - 16 else text
    return [Shape("text", left + 8, baseline, text=text, size=11, fill=INK, role="label")]


def _y_ticks(lo: int, hi: int) -> list[float]:
    steps = (1, 2, 5) if hi - lo <= 2 else (1,)
    return [m * 10.0 ** k for k in range(lo, hi + 1) for m in steps if m * 10.0 ** k <= 10.0 ** hi]


def _radius(r: Recommendation, best: float) -> float:
    return 10.0 + 8.0 * math.sqrt(r.score / best) if best > 0 else 10.0


def _bubbles(items: list[Recommendation], sx: Scale, sy: Scale, taken: list[Box],
             titles: Mapping[str, str], plot: Box) -> list[Shape]:
    """Range bars under every bubble, bubbles (dodged sideways when they would cover each other) and labels:
    a label ("2. Update lead scoring ...") takes the first free spot beside its bubble, in full on up to two
    lines, or stays in the legend alone (a bubble's number always keys it to the legend)."""
    best = max((r.score for r in items), default=0.0)
    placed: list[tuple[float, float, float, Recommendation]] = []
    for r in items:  # best first: it keeps its exact spot
        cx, cy, rad = sx(r.hours), sy(r.revenue or 0.0), _radius(r, best)
        for step in range(1, 12):
            if not any(math.hypot(cx - x, cy - y) < rad + q + 1 for x, y, q, _ in placed):
                break
            cx = sx(r.hours) + (rad * 1.1) * ((step + 1) // 2) * (1 if step % 2 else -1)
        placed.append((cx, cy, rad, r))
    for cx, cy, rad, r in placed:
        taken.append((cx - rad, cy - rad, cx + rad, cy + rad))
        taken.append((sx(r.hours_low), cy - 1.5, sx(r.hours_high), cy + 1.5))
    shapes: list[Shape] = [Shape("line", sx(r.hours_low), cy, sx(r.hours_high), cy, stroke=BUBBLE[r.quadrant],
                                 width=2, role="bar") for _, cy, _, r in reversed(placed)]  # every bar under every bubble
    for cx, cy, rad, r in reversed(placed):  # the top-ranked is drawn last, on top
        shapes.append(Shape("circle", cx, cy, rad, fill=BUBBLE[r.quadrant], stroke="#FFFFFF", width=1.5,
                            role="bubble"))
        shapes.append(Shape("text", cx, cy + 4.5, text=str(r.rank), size=12, anchor="middle", bold=True,
                            fill="#FFFFFF", role="rank"))
    for cx, cy, rad, r in placed:  # labels, best first: the first to claim a spot keeps it; numbered, as a label
        shapes += _label(f"{r.rank}. {titles[r.id]}", cx, cy, rad, taken, plot)  # may sit nearer another bubble
    return shapes


def _label(title: str, cx: float, cy: float, rad: float, taken: list[Box], plot: Box) -> list[Shape]:
    """The title beside its bubble, whole, on up to two lines of 190 px (or three of 130 px, to fit a narrow
    quadrant), where nothing else is; else the legend alone names it."""
    for width, most in ((190, 2), (130, 3)):
        lines = wrap(title, width, 11, max_lines=most)
        if lines and ELLIPSIS not in lines[-1]:
            shapes = _placed(lines, cx, cy, rad, taken, plot)
            if shapes:
                return shapes
    return []


def _placed(lines: list[str], cx: float, cy: float, rad: float, taken: list[Box], plot: Box) -> list[Shape]:
    """``lines`` at the first free spot around the bubble (claimed in ``taken``), or nothing."""
    w, tall = max(measure(line, 11) for line in lines), 13.0 * len(lines)
    for dx, dy, anchor in ((rad + 4, 4, "start"), (-rad - 4, 4, "end"), (0, -rad - 5 - tall + 13, "middle"),
                           (0, rad + 14, "middle"), (rad + 4, -rad - tall + 13, "start"), (rad + 4, rad + 8, "start")):
        x0 = cx + dx - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
        box = (x0, cy + dy - 11, x0 + w, cy + dy - 13 + tall + 3)
        inside = plot[0] + 2 <= box[0] and box[2] <= plot[2] - 2 and plot[1] + 2 <= box[1] and box[3] <= plot[3]
        if inside and not any(_overlap(box, t) for t in taken):
            taken.append(box)
            return [Shape("text", cx + dx, cy + dy + 13 * k, text=line, size=11, anchor=anchor, fill=INK,
                          role="label") for k, line in enumerate(lines)]
    return []


def box_of(sh: Shape) -> Box:
    """A drawn shape's ink: a circle's square, a line's stroke, a text's measured line (baseline at ``y``)."""
    if sh.kind == "circle":
        return sh.x - sh.w, sh.y - sh.w, sh.x + sh.w, sh.y + sh.w
    if sh.kind == "line":
        half = sh.width / 2
        return min(sh.x, sh.w) - half, min(sh.y, sh.h) - half, max(sh.x, sh.w) + half, max(sh.y, sh.h) + half
    w = measure(sh.text, sh.size, sh.bold)
    x0 = sh.x - (w if sh.anchor == "end" else w / 2 if sh.anchor == "middle" else 0)
    return x0, sh.y - 0.8 * sh.size, x0 + w, sh.y + 0.25 * sh.size


def collisions(lay: MatrixLayout) -> list[tuple[Shape, Shape]]:
    """Pairs of bubbles and labels that cover each other (a bubble's own rank number aside), and labels
    crossed by a quadrant's edge or a range bar: empty when every bubble and label can be read."""
    marks = [sh for sh in lay.shapes if sh.role in ("bubble", "label", "divider", "bar")]
    out = []
    for i, a in enumerate(marks):
        for b in marks[i + 1:]:
            if "label" not in (a.role, b.role) and {a.role, b.role} & {"divider", "bar"}:
                continue  # bars cross dividers, bubbles sit on their bars: only labels must stay clear
            if a.kind == b.kind == "circle":
                hit = math.hypot(a.x - b.x, a.y - b.y) < a.w + b.w - 0.5
            else:
                hit = _overlap(box_of(a), box_of(b))
            if hit:
                out.append((a, b))
    return out


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend(items: list[Recommendation], titles: Mapping[str, str], frame: Frame) -> list[Shape]:
    """Every recommendation by number, its title wrapped (never cut mid-word) while the plot's height lasts."""
    assert frame.legend_x is not None
    x, plot = frame.legend_x, frame.plot
    shapes = [Shape("text", x, plot[1] + 4, text="Ranked by revenue per hour", size=13, bold=True, fill=INK)]
    y, shown = plot[1] + 30, 0
    for r in items[:MAX_LEGEND]:
        lines = wrap(titles[r.id], frame.width - x - 40, 11, max_lines=2)
        if y + 14 * (len(lines) - 1) > plot[3] - 16 * (len(items) > shown + 1):
            break
        shapes.append(Shape("circle", x + 9, y - 4, 9, fill=BUBBLE[r.quadrant]))
        shapes.append(Shape("text", x + 9, y, text=str(r.rank), size=10, anchor="middle", bold=True,
                            fill="#FFFFFF"))
        for k, line in enumerate(lines):
            shapes.append(Shape("text", x + 24, y + 14 * k, text=line, size=11, fill=INK, role="legend"))
        y += 14 * (len(lines) - 1) + 21
        shown += 1
    if len(items) > shown:
        shapes.append(Shape("text", x, y, text=f"... and {len(items) - shown} more", size=11, fill=INK))
    if not items:
        shapes.append(Shape("text", x, y, text="No recommendation: no rule fired.", size=11, fill=INK))
    return shapes


def to_svg(lay: MatrixLayout) -> str:
    """The layout as standalone SVG (the font embedded, so text measures as laid out)."""
    data = font_base64()
    face = (f"@font-face{{font-family:'{FONT_FAMILY}';src:url(data:font/ttf;base64,{data}) format('truetype');}}"
            if data else "")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:g}" height="{lay.height:g}" '
             f'viewBox="0 0 {lay.width:g} {lay.height:g}" font-family="\'{FONT_FAMILY}\', {FALLBACK_FAMILIES}">',
             f"<style>{face}</style>"]
    for sh in lay.shapes:
        role = f'class="{sh.role}" ' if sh.role else ""
        paint = role + f'fill="{sh.fill or "none"}"' + (f' stroke="{sh.stroke}" stroke-width="{sh.width:g}"'
                                                       if sh.stroke else "")
        if sh.kind == "rect":
            parts.append(f'<rect x="{sh.x:.1f}" y="{sh.y:.1f}" width="{sh.w:.1f}" height="{sh.h:.1f}" {paint}/>')
        elif sh.kind == "line":
            parts.append(f'<line {role}x1="{sh.x:.1f}" y1="{sh.y:.1f}" x2="{sh.w:.1f}" y2="{sh.h:.1f}" '
                         f'stroke="{sh.stroke or INK}" stroke-width="{sh.width:g}"/>')
        elif sh.kind == "circle":
            parts.append(f'<circle cx="{sh.x:.1f}" cy="{sh.y:.1f}" r="{sh.w:.1f}" {paint}/>')
        else:
            weight = ' font-weight="bold"' if sh.bold else ""
            parts.append(f'<text {role}x="{sh.x:.1f}" y="{sh.y:.1f}" font-size="{sh.size:g}" '
                         f'text-anchor="{sh.anchor}" fill="{sh.fill or INK}"{weight}>{xml_escaped(sh.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def to_png(lay: MatrixLayout, scale: float = 1.5) -> bytes:
    """The layout as PNG bytes, drawn with Pillow (no browser)."""
    image = Image.new("RGB", (round(lay.width * scale), round(lay.height * scale)), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    for sh in lay.shapes:
        x, y, w, h = (v * scale for v in (sh.x, sh.y, sh.w, sh.h))
        width = max(1, round(sh.width * scale))
        if sh.kind == "rect":
            draw.rectangle((x, y, x + w, y + h), fill=sh.fill, outline=sh.stroke, width=width if sh.stroke else 0)
        elif sh.kind == "line":
            draw.line((x, y, w, h), fill=sh.stroke or INK, width=width)
        elif sh.kind == "circle":
            draw.ellipse((x - w, y - w, x + w, y + w), fill=sh.fill, outline=sh.stroke,
                         width=width if sh.stroke else 0)
        else:
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[sh.anchor]
            f = font(sh.size * scale)
            draw.text((x, y), drawable(sh.text), font=f, fill=sh.fill or INK, anchor=anchor)
            if sh.bold:  # synthesized bold, as the journey map does
                draw.text((x + 0.6 * scale, y), drawable(sh.text), font=f, fill=sh.fill or INK, anchor=anchor)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def to_html(recs: Recommendations) -> str:
    """An interactive Plotly matrix with plotly.js embedded: works offline."""
    import plotly.graph_objects as go

    figure = go.Figure()
    cur = recs.currency
    floor = 10.0 ** y_decades(recs)[0]
    for name in (QUICK_WINS, MAJOR_PROJECTS, FILL_INS, THANKLESS):
        mine = [r for r in recs.items if r.quadrant == name]
        if not mine:
            continue
        best = max((r.score for r in recs.items), default=0.0)
        figure.add_trace(go.Scatter(
            x=[r.hours for r in mine], y=[r.revenue or floor for r in mine], mode="markers+text", name=name,
            text=[str(r.rank) for r in mine], textfont={"color": "#FFFFFF"},
            marker={"size": [2 * _radius(r, best) for r in mine], "color": BUBBLE[name],
                    "line": {"color": "#FFFFFF", "width": 1}},
            error_x={"type": "data", "symmetric": False, "array": [r.hours_high - r.hours for r in mine],
                     "arrayminus": [r.hours - r.hours_low for r in mine], "color": BUBBLE[name]},
            customdata=[[r.title, money(r.revenue, cur), f"{r.hours_low:g}-{r.hours_high:g} h",
                         f"{r.score:,.0f} {cur}/h", r.status] for r in mine],
            hovertemplate="<b>%{customdata[0]}</b><br>recoverable revenue at stake %{customdata[1]} " + _per(recs)
            + "<br>"
                          "effort %{customdata[2]}<br>%{customdata[3]}<br>%{customdata[4]}<extra></extra>",
        ))
    xm, (lo, hi) = x_max(recs), y_decades(recs)
    line = recs.impact_line if recs.impact_line > 0 else 10 ** ((lo + hi) / 2)
    floor, ceil = 10.0 ** lo, 10.0 ** hi
    for name, (x0, x1, y0, y1) in {QUICK_WINS: (0, QUICK_WIN_HOURS, line, ceil),
                                   MAJOR_PROJECTS: (QUICK_WIN_HOURS, xm, line, ceil),
                                   FILL_INS: (0, QUICK_WIN_HOURS, floor, line),
                                   THANKLESS: (QUICK_WIN_HOURS, xm, floor, line)}.items():
        figure.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, fillcolor=QUADRANT_FILL[name], line_width=0,
                         layer="below")
        figure.add_annotation(x=(x0 + x1) / 2, y=math.log10(y1 if y1 == ceil else y0), text=name.upper(),
                              showarrow=False, yanchor="top" if y1 == ceil else "bottom", font={"color": "#5F6368"})
    figure.update_layout(title_text=f"Impact / effort: {recs.name}", template="plotly_white",
                         xaxis={"title": "Effort (hours; bar = typical range)", "range": [0, xm]},
                         yaxis={"title": f"Recoverable revenue at stake {_per(recs)} ({cur}; none: at the bottom)", "type": "log",
                                "range": [lo, hi]})
    out = figure.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False})
    return str(out)


def write_matrix(recs: Recommendations, out_dir: Path, stem: str = "impact_effort") -> list[Path]:
    """``stem``.html, .svg and .png in ``out_dir``; returns the paths."""
    lay = layout(recs)
    html, svg, png = (out_dir / f"{stem}.{ext}" for ext in ("html", "svg", "png"))
    html.write_text(to_html(recs), "utf-8")
    svg.write_text(to_svg(lay), "utf-8")
    png.write_bytes(to_png(lay))
    return [html, svg, png]


def _per(recs: Recommendations) -> str:
    """"per year", or "per 27 days" when the analysis is not annualized."""
    fr = recs.friction
    return "per year" if fr is None or fr.annualized else f"per {fr.span_days:.0f} days"
