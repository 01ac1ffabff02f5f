"""The footer of the map: the legend (what each mark means) and the data caveats."""

from __future__ import annotations

from leadjourney.display import moment
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.boxes import Box, TextLine
from leadjourney.journeymap.model import JourneyMap

ITEM_H = 24.0
CAVEAT_MAX_LINES = 12  # a caveat wraps (the box grows) rather than losing its end


def legend_items(jm: JourneyMap) -> list[tuple[str, str, str]]:
    """(style, shape, label) of each legend entry that applies to this map."""
    items = [
        ("stage", "rect", "Stage: people who reached it"),
        ("conversion", "rect", "Conversion point: rate, 95% CI, median time"),
        ("marker", "triangle", "Drop-off point: significantly below benchmark or other sources"),
        ("dropoff", "rect", "Drop-off: rate vs comparison, revenue lost per year"),
        ("touch-auto", "rect", "Automated touchpoint (bar: volume, per lane)"),
        ("touch-human", "rect", "Human touchpoint (bar: volume, per lane)"),
        ("dark", "rect", "Dark lead: open and silent, by furthest stage"),
        ("reengaged", "rect", "Came back after a silence, by the stage reached"),
    ]
    if jm.personas:
        items += [("persona-lower", "rect", "Persona converts lower than the other personas (significant)"),
                  ("persona-higher", "rect", "Persona converts higher than the other personas (significant)")]
    if jm.has_targets:
        items.append(("swatch-target", "tick", "Ideal-state target on the rate bar; gap in points"))
    if jm.has_findings:
        items += [("badge-CONFIRMED", "rect", "CONFIRMED by stakeholders"),
                  ("badge-CORRECTED", "rect", "CORRECTED by stakeholders (see note)")]
    return items


def footer(jm: JourneyMap, x: float, y: float, w: float) -> tuple[list[Box], float]:
    """Legend on the left, caveats on the right; returns the boxes and the bottom edge."""
    legend_w = min(0.5 * w, 900.0)
    boxes = [_legend(jm, x, y, legend_w)]
    caveats = _caveats(jm, x + legend_w + 24, y, w - legend_w - 24)
    boxes += [caveats]
    bottom = max(b.bottom for b in boxes)
    for b in boxes:
        b.h = bottom - b.y
    stamp = Box("generated", x, bottom + 8, w, 20, "note", "note")
    stamp.lines.append(TextLine(tx.truncate(
        f"Drawn by leadjourney on {moment(str(jm.computed_at))} from this selection's analysis: every number "
        "is the analysis report's.", w, 11), x, bottom + 22, 11))  # an ISO stamp and a command in backticks before
    return [*boxes, *_swatches(jm, x, y, legend_w), stamp], bottom + 28


def _legend(jm: JourneyMap, x: float, y: float, w: float) -> Box:
    box = Box("legend", x, y, w, 0, "footer", "legend")
    box.lines.append(TextLine("LEGEND", x + 14, y + 24, 13, True))
    items = legend_items(jm)
    col_w = (w - 28) / 2
    rows = (len(items) + 1) // 2
    for i, (_, _, label) in enumerate(items):
        cx = x + 14 + (i // rows) * col_w
        cy = y + 38 + (i % rows) * ITEM_H
        box.lines.append(TextLine(tx.truncate(label, col_w - 44, 12), cx + 36, cy + 13, 12))
    box.h = 38 + rows * ITEM_H + 10
    return box


def _swatches(jm: JourneyMap, x: float, y: float, w: float) -> list[Box]:
    items = legend_items(jm)
    col_w = (w - 28) / 2
    rows = (len(items) + 1) // 2
    out = []
    for i, (style, shape, label) in enumerate(items):
        cx = x + 14 + (i // rows) * col_w
        cy = y + 38 + (i % rows) * ITEM_H
        if shape == "tick":
            out.append(Box(f"legend-{i}", cx + 12, cy, 3, 18, style, "swatch", tooltip=label))
        elif shape == "triangle":
            out.append(Box(f"legend-{i}", cx + 6, cy + 3, 16, 13, style, "swatch", tooltip=label, shape="triangle"))
        else:
            out.append(Box(f"legend-{i}", cx, cy + 1, 28, 16, style, "swatch", tooltip=label))
    return out


def _caveats(jm: JourneyMap, x: float, y: float, w: float) -> Box:
    box = Box("caveats", x, y, w, 0, "footer", "caveats", tooltip="\n".join(jm.caveats))
    box.lines.append(TextLine("DATA CAVEATS", x + 14, y + 24, 13, True))
    at = y + 44
    for caveat in jm.caveats:
        for k, line in enumerate(tx.wrap(caveat, w - 44, 12, max_lines=CAVEAT_MAX_LINES)):
            box.lines.append(TextLine(("· " if k == 0 else "") + line, x + (14 if k == 0 else 23), at, 12))
            at += 16
        at += 3
    box.h = at - y + 4
    return box
