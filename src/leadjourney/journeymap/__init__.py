"""The visual journey map, drawn from data: model, one layout, and renderers for each format.

>>> jm = build_map(analysis, touchpoints, config=ws.config)      # doctest: +SKIP
>>> write_map(jm, ws.root / "out", formats=("html", "png"))       # doctest: +SKIP
"""

from leadjourney.errors import MapError
from leadjourney.journeymap.boxes import Box, Edge, Layout, TextLine
from leadjourney.journeymap.build import build_map
from leadjourney.journeymap.drawio import to_drawio
from leadjourney.journeymap.html import to_html
from leadjourney.journeymap.layout import lay_out, overlaps
from leadjourney.journeymap.mermaid import to_mermaid
from leadjourney.journeymap.miro import to_miro_csv
from leadjourney.journeymap.model import (
    ConversionPoint,
    DarkPath,
    DropOffPoint,
    JourneyMap,
    Lane,
    Mark,
    PersonaLane,
    PersonaPoint,
    StageNode,
    TouchpointCard,
    TouchpointLike,
)
from leadjourney.journeymap.png import to_png
from leadjourney.journeymap.render import write_map
from leadjourney.journeymap.svg import to_svg

__all__ = [
    "Box",
    "ConversionPoint",
    "DarkPath",
    "DropOffPoint",
    "Edge",
    "JourneyMap",
    "Lane",
    "Layout",
    "MapError",
    "Mark",
    "PersonaLane",
    "PersonaPoint",
    "StageNode",
    "TextLine",
    "TouchpointCard",
    "TouchpointLike",
    "build_map",
    "lay_out",
    "overlaps",
    "to_drawio",
    "to_html",
    "to_mermaid",
    "to_miro_csv",
    "to_png",
    "to_svg",
    "write_map",
]
