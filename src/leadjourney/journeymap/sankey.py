"""The paths Sankey for people: out/paths_sankey.html, a self-contained page with one SVG and the flows table.

Stages stand in columns, in the order people first reach them; every person ends in an outcome in the last
column (won green, disqualified and closed-not-won red, dark amber, still open grey). Each node says its
people and share of all; each flow carries its count (onward flows on the band, exits and skips beside
their source, stacked so no two overlap) and a tooltip with its share of the source; the table under the
picture lists every flow. Names are display names (``[labels]``). Nothing is fetched: no script, no font.

>>> flows(paths)[:2]                                   # doctest: +SKIP
[Flow(source='Lead', target='MQL', value=7353), Flow(source='Lead', target='open', value=7817)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from pathlib import Path

from leadjourney.analysis.paths import OUTCOMES, Paths
from leadjourney.display import count, display_name, percent
from leadjourney.journeymap.text import FALLBACK_FAMILIES, measure

OUTCOME_ORDER = ("won", "open", "dark", "closed", "disqualified")  # top to bottom in the last column
# won green; lost red (disqualified, and closed without winning a shade lighter); dark amber; still open grey
COLORS = {"won": "#188038", "open": "#9AA0A6", "dark": "#B06000", "closed": "#EA4335", "disqualified": "#C5221F"}
STAGE_COLOR, FLOW_COLOR, BACK_COLOR = "#1F2A44", "#8FA3C7", "#7B1FA2"
WIDTH, LEFT, RIGHT, TOP, PLOT_H, NODE_W, GAP = 1280.0, 40.0, 250.0, 70.0, 560.0, 16.0, 22.0
LABEL = 12.0  # px: the flows' counts
assert set(OUTCOME_ORDER) == set(OUTCOMES)


@dataclass(frozen=True)
class Flow:
    """People moving from one step of their path to the next (a stage, or the outcome they ended in)."""

    source: str
    target: str
    value: int


@dataclass
class _Node:
    name: str
    kind: str  # stage or outcome
    column: int
    value: int
    x: float = 0.0
    y: float = 0.0
    h: float = 0.0
    out_at: float = 0.0  # where the next outgoing band starts
    in_at: float = 0.0


def flows(paths: Paths) -> list[Flow]:
    """Every step of every path, and from its last stage to its outcome (won included), biggest first."""
    counted: Counter[tuple[str, str]] = Counter()
    for v in paths.all_variants:
        for a, b in pairwise(v.stages):
            counted[(a, b)] += v.people
        counted[(v.stages[-1], v.outcome)] += v.people
    return [Flow(a, b, n) for (a, b), n in sorted(counted.items(), key=lambda x: (-x[1], x[0]))]


def outcome_name(outcome: str, dark_after_days: int | None) -> str:
    return {"won": "Won", "open": "Still open", "closed": "Closed, not won", "disqualified": "Disqualified",
            "dark": f"Dark (silent {dark_after_days}+ days)" if dark_after_days else "Dark"}.get(outcome, outcome)


def _layout(paths: Paths, found: list[Flow]) -> dict[str, _Node]:
    stages = list(dict.fromkeys(s for v in paths.all_variants for s in v.stages))
    into: Counter[str] = Counter()
    out_of: Counter[str] = Counter()
    for f in found:
        out_of[f.source] += f.value
        into[f.target] += f.value
    nodes = {s: _Node(s, "stage", i, max(into[s], out_of[s])) for i, s in enumerate(stages)}
    ends = [o for o in OUTCOME_ORDER if o == "won" or paths.outcomes.get(o)]
    nodes |= {o: _Node(o, "outcome", len(stages), paths.outcomes.get(o, 0)) for o in ends}
    scale = (PLOT_H - GAP * (len(ends) - 1)) / max(1, paths.n_people)
    step = (WIDTH - LEFT - RIGHT - NODE_W) / max(1, len(stages))
    y = TOP
    for node in nodes.values():
        node.x = LEFT + node.column * step
        node.h = max(2.0, node.value * scale)
        if node.kind == "stage":  # the stages along the top: the main flow runs straight, exits fall away
            node.y = TOP
        else:
            node.y = y
            y += max(node.h + GAP, 42.0)  # room for its two-line label
        node.out_at = node.in_at = node.y
    return nodes


def _band(x0: float, y0: float, x1: float, y1: float, w: float) -> str:
    xm = (x0 + x1) / 2
    return (f"M{x0:.1f},{y0:.1f} C{xm:.1f},{y0:.1f} {xm:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
            f"L{x1:.1f},{y1 + w:.1f} C{xm:.1f},{y1 + w:.1f} {xm:.1f},{y0 + w:.1f} {x0:.1f},{y0 + w:.1f} Z")


def to_svg(paths: Paths, labels: Mapping[str, str] | None = None) -> str:
    """The Sankey as one SVG element (text escaped)."""
    found = flows(paths)
    nodes = _layout(paths, found)
    scale = (nodes[found[0].source].h / nodes[found[0].source].value) if found else 1.0

    def name(n: _Node) -> str:
        return display_name(n.name, labels) if n.kind == "stage" else outcome_name(n.name, paths.dark_after_days)

    order = {name: (n.column, n.y) for name, n in nodes.items()}
    bands: list[str] = []
    fixed: list[_Label] = []  # the nodes' names and figures
    counts: list[_Label] = []  # the flows' counts, placed after, clear of everything placed before
    for n in nodes.values():
        figure = f"{count(n.value)} ({percent(n.value / max(1, paths.n_people))})"
        if n.kind == "stage":  # above its column
            anchor = "start" if n.column == 0 else "middle"
            cx = n.x if n.column == 0 else n.x + NODE_W / 2
            fixed += [_Label(cx, n.y - 26, name(n), 14, anchor, True, n.name),
                      _Label(cx, n.y - 8, figure, 12, anchor, False, n.name)]
        else:  # right of the last column
            top = n.y + min(n.h, 30) / 2
            fixed += [_Label(n.x + NODE_W + 8, top + 1, name(n), 13, "start", True, n.name),
                      _Label(n.x + NODE_W + 8, top + 18, figure, 12, "start", False, n.name)]
    for f in sorted(found, key=lambda f: (order[f.source], order[f.target])):
        a, b = nodes[f.source], nodes[f.target]
        w = max(1.0, f.value * scale)
        back = b.column <= a.column
        if back:  # a step back (stage dates out of order): from the source's left edge to the target's right
            x0, x1, y0, y1 = a.x, b.x + NODE_W, a.in_at, b.out_at
        else:
            x0, x1, y0, y1 = a.x + NODE_W, b.x, a.out_at, b.in_at
        color = BACK_COLOR if back else COLORS.get(f.target, FLOW_COLOR)
        share = f.value / a.value if a.value else 0.0
        tip = f"{name(a)} → {name(b)}: {count(f.value)} people ({percent(share)} of {name(a)})"
        bands.append(f'<path class="flow" d="{_band(x0, y0, x1, y1, w)}" fill="{color}" fill-opacity="0.45" '
                     f'data-source="{escape(f.source)}" data-target="{escape(f.target)}" data-value="{f.value}">'
                     f"<title>{escape(tip)}</title></path>")
        if back:
            a.in_at += w
            b.out_at += w
        else:
            a.out_at += w
            b.in_at += w
        onward = not back and b.kind == "stage" and b.column == a.column + 1
        if onward:  # halfway along its band: inside a thick one, above a thin one
            y = (y0 + y1) / 2 + (w / 2 + LABEL / 3 if w >= LABEL + 2 else -4)
            counts.append(_Label((x0 + x1) / 2, y, count(f.value), LABEL, "middle", True, f.source, f.target))
        else:  # beside its source, where its band leaves
            text = f"{count(f.value)} {'back to ' if back else '→ '}{name(b)}"
            counts.append(_Label(x0 - 6 if back else x0 + 6, y0 + w / 2 + LABEL / 3, text, LABEL,
                                 "end" if back else "start", False, f.source, f.target))
    placed = list(fixed)
    for label in counts:
        while any(label.hits(other) for other in placed):  # moved down past what it would cover
            label.y = max(other.bottom for other in placed if label.hits(other)) + label.size + 1
        placed.append(label)
    bottom = max([TOP + PLOT_H, *(n.y + max(n.h, 30.0) for n in nodes.values()), *(t.bottom for t in placed)])
    boxes = []
    for n in nodes.values():
        color = STAGE_COLOR if n.kind == "stage" else COLORS[n.name]
        tip = f"{name(n)}: {count(n.value)} people ({percent(n.value / max(1, paths.n_people))} of all)"
        boxes.append(f'<rect class="node" x="{n.x:.1f}" y="{n.y:.1f}" width="{NODE_W}" height="{n.h:.1f}" '
                     f'fill="{color}" data-node="{escape(n.name)}" data-value="{n.value}"><title>{escape(tip)}</title>'
                     "</rect>")
    height = bottom + 40
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH:.0f} {height:.0f}" font-family="{FALLBACK_FAMILIES}" role="img">'
            + "".join(bands) + "".join(boxes) + "".join(t.svg() for t in placed) + "</svg>")


@dataclass
class _Label:
    x: float
    y: float  # baseline
    text: str
    size: float
    anchor: str
    bold: bool
    source: str
    target: str = ""

    @property
    def width(self) -> float:
        return measure(self.text, self.size, self.bold)

    @property
    def left(self) -> float:
        return self.x - (self.width if self.anchor == "end" else self.width / 2 if self.anchor == "middle" else 0)

    @property
    def top(self) -> float:
        return self.y - self.size

    @property
    def bottom(self) -> float:
        return self.y + self.size * 0.3

    def hits(self, other: _Label) -> bool:
        return (self.left < other.left + other.width and other.left < self.left + self.width
                and self.top < other.bottom and other.top < self.bottom)

    def svg(self) -> str:
        weight = ' font-weight="700"' if self.bold else ""
        return (f'<text x="{self.x:.1f}" y="{self.y:.1f}" font-size="{self.size:g}" text-anchor="{self.anchor}"'
                f'{weight} fill="#202124" stroke="#FFFFFF" stroke-width="3" paint-order="stroke" '
                f'data-left="{self.left:.1f}" data-width="{self.width:.1f}" data-source="{escape(self.source)}" '
                f'data-target="{escape(self.target)}">{escape(self.text)}</text>')


def to_html(paths: Paths, title: str, labels: Mapping[str, str] | None = None, color: str = "#1A73E8") -> str:
    """The page: the title, the happy path in words, the Sankey, and every flow in a table."""
    happy = " → ".join(display_name(s, labels) for s in paths.happy_path)
    share = "" if paths.happy_share is None else (
        f"; the happy path ({escape(happy)}, won) is {percent(paths.happy_share)} of them "
        f"({count(paths.happy_people)})")
    found = flows(paths)
    total = Counter[str]()
    for f in found:
        total[f.source] += f.value

    def name(x: str) -> str:
        return outcome_name(x, paths.dark_after_days) if x in OUTCOMES else display_name(x, labels)

    rows = "".join(f"<tr><td>{escape(name(f.source))}</td><td>{escape(name(f.target))}</td>"
                   f'<td class="n">{count(f.value)}</td><td class="n">{percent(f.value / total[f.source])}</td></tr>'
                   for f in found)
    color = color if len(color) == 7 and color.startswith("#") else "#1A73E8"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="leadjourney">
<title>{escape(title)}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #202124;
       margin: 2rem auto; max-width: 1320px; padding: 0 1.5rem; line-height: 1.5; }}
h1 {{ font-size: 1.7rem; color: {color}; border-bottom: 3px solid {color}; padding-bottom: .3rem; }}
h2 {{ font-size: 1.2rem; color: {color}; margin-top: 2rem; }}
table {{ border-collapse: collapse; font-size: .9rem; }}
th, td {{ border: 1px solid #DADCE0; padding: .3rem .6rem; text-align: left; }}
th {{ background: {color}; color: #fff; }} td.n {{ text-align: right; }}
.key span {{ display: inline-block; width: .9rem; height: .9rem; border-radius: 2px; margin: 0 .3rem 0 1rem;
            vertical-align: -2px; }}
svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>{count(paths.n_people)} people took {count(paths.n_variants)} distinct paths{share}. Each band is people moving
to their next stage or to where they ended; hover a band or a box for its share. A stage counts the people
whose recorded path passes through it: the funnel counts stage reach (everyone at or past a stage, skipped
stages included), so its counts are higher.</p>
<p class="key">{"".join(f'<span style="background:{COLORS[o]}"></span>{escape(outcome_name(o, paths.dark_after_days))}'
                          for o in OUTCOME_ORDER if o == "won" or paths.outcomes.get(o))}</p>
{to_svg(paths, labels)}
<h2>Every flow</h2>
<table><thead><tr><th>From</th><th>To</th><th>People</th><th>Share of "from"</th></tr></thead>
<tbody>{rows}</tbody></table>
</body></html>
"""


def write_sankey(paths: Paths, path: Path, title: str, labels: Mapping[str, str] | None = None,
                 color: str = "#1A73E8") -> Path:
    """Write :func:`to_html` to ``path``."""
    path.write_text(to_html(paths, title, labels, color), "utf-8")
    return path
