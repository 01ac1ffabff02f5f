"""The map's look: one style per kind of box, shared by the SVG, PNG, HTML and draw.io renderers."""

from __future__ import annotations

from dataclasses import dataclass

RED = "#D32F2F"
NAVY = "#1F2A44"
INK = "#1F2A44"
MUTED = "#5F6B7A"
BLUE = "#4A6FA5"
ORANGE = "#E08A1E"
PURPLE = "#7B3FA0"
GREEN = "#2E7D32"
GREY = "#607D8B"


@dataclass(frozen=True)
class Style:
    fill: str | None
    stroke: str | None = None
    stroke_width: float = 1.0
    dashed: bool = False
    radius: float = 6.0
    text: str = INK


STYLES: dict[str, Style] = {
    "board": Style("#FFFFFF", None, 0, radius=0),
    "lane": Style("#F5F7FA", None, 0, radius=0),
    "lane-alt": Style("#ECF0F5", None, 0, radius=0),
    "lane-head": Style(NAVY, None, 0, radius=0, text="#FFFFFF"),
    "band": Style(None, None, 0, radius=0, text=MUTED),
    "band-title": Style("#FFFFFF", "#DDE3EA", 1.0, radius=11, text=MUTED),
    "stage": Style(NAVY, NAVY, 1, radius=10, text="#FFFFFF"),
    "conversion": Style("#FFFFFF", "#9AA5B8", 1.2),
    "conversion-dropoff": Style("#FFFFFF", RED, 2.5),
    "dropoff": Style("#FDECEA", RED, 2.0, text="#B71C1C"),
    "dropoff-more": Style("#FFFFFF", RED, 1.5, dashed=True, text="#B71C1C"),
    "marker": Style(RED, RED, 1, radius=0),
    "touch-auto": Style("#FFFFFF", "#8FA3BF", 1.2, dashed=True),
    "touch-human": Style("#FFF3E0", ORANGE, 1.5),
    "touch-more": Style("#FFFFFF", "#B0BAC6", 1.0, dashed=True, text=MUTED),
    "stripe-auto": Style(BLUE, None, 0, radius=0),
    "stripe-human": Style(ORANGE, None, 0, radius=0),
    "bar-auto": Style("#9DB3D3", None, 0, radius=1),
    "bar-human": Style("#F2B868", None, 0, radius=1),
    "rate-track": Style("#E6EAF0", None, 0, radius=2),
    "rate-bar": Style(BLUE, None, 0, radius=2),
    "rate-bar-red": Style(RED, None, 0, radius=2),
    "ci": Style(NAVY, None, 0, radius=0),
    "target": Style(PURPLE, None, 0, radius=0),
    "dark": Style("#ECEFF1", GREY, 1.2, dashed=True, text="#37474F"),
    "reengaged": Style("#E8F5E9", GREEN, 1.2, dashed=True, text="#1B5E20"),
    "marketing": Style("#FFFFFF", "#7E9BC4", 1.2),
    "marketing-flag": Style("#FFFFFF", RED, 2.0),
    "persona": Style("#FFFFFF", "#C5CCD6", 1.0),
    "persona-label": Style("#E3E8EF", None, 0, text=INK),
    "persona-lower": Style("#FDECEA", RED, 1.2, text="#B71C1C"),
    "persona-higher": Style("#E8F5E9", GREEN, 1.2, text="#1B5E20"),
    "badge-ASSUMED": Style("#FFF8E1", "#F9A825", 1.0, radius=3, text="#8D6E00"),
    "badge-CONFIRMED": Style("#E8F5E9", GREEN, 1.0, radius=3, text="#1B5E20"),
    "badge-CORRECTED": Style("#F3E5F5", PURPLE, 1.0, radius=3, text="#4A148C"),
    "badge-stale": Style("#FFFFFF", "#9E9E9E", 1.0, dashed=True, radius=3, text="#616161"),
    "note": Style(None, None, 0, text=MUTED),
    "placeholder": Style("#FFFFFF", "#B0BAC6", 1.2, dashed=True, radius=10, text=MUTED),
    "footer": Style("#FFFFFF", "#C5CCD6", 1.0),
    "swatch-target": Style(PURPLE, None, 0, radius=0),
}

EDGE_STYLES: dict[str, Style] = {
    "flow": Style(None, NAVY, 2.5),
    "flow-dropoff": Style(None, RED, 3.0),
    "connector": Style(None, "#9AA5B8", 1.2, dashed=True),
    "dark": Style(None, GREY, 1.5, dashed=True),
}


def style(name: str) -> Style:
    return STYLES[name]
