"""Write a journey map to files, one per format, from one layout."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from leadjourney.errors import MapError
from leadjourney.journeymap.boxes import Layout
from leadjourney.journeymap.drawio import to_drawio
from leadjourney.journeymap.html import to_html
from leadjourney.journeymap.layout import DEFAULT_WIDTH, lay_out
from leadjourney.journeymap.mermaid import to_mermaid
from leadjourney.journeymap.miro import to_miro_csv
from leadjourney.journeymap.model import JourneyMap
from leadjourney.journeymap.png import to_png
from leadjourney.journeymap.svg import to_svg

Writer = Callable[[JourneyMap, Layout, float], str | bytes]

WRITERS: dict[str, tuple[str, Writer]] = {
    "html": ("journey_map.html", lambda jm, lay, _: to_html(lay, jm)),
    "svg": ("journey_map.svg", lambda jm, lay, _: to_svg(lay)),
    "png": ("journey_map.png", lambda jm, lay, scale: to_png(lay, scale=scale)),
    "drawio": ("journey_map.drawio", lambda jm, lay, _: to_drawio(lay)),
    "mermaid": ("journey_map.mmd", lambda jm, lay, _: to_mermaid(jm)),
    "miro-csv": ("journey_map_miro.csv", lambda jm, lay, _: to_miro_csv(jm)),
}
FORMATS = tuple(WRITERS)


def check_formats(formats: Iterable[str]) -> list[str]:
    """The formats, validated and de-duplicated in order; a comma-separated string item is split."""
    out: list[str] = []
    for item in formats:
        for name in (part.strip().lower() for part in item.split(",")):
            if not name:
                continue
            if name not in WRITERS:
                raise MapError(f"unknown map format {name!r}; choose from {', '.join(FORMATS)}")
            if name not in out:
                out.append(name)
    if not out:
        raise MapError(f"no map format given; choose from {', '.join(FORMATS)}")
    return out


def write_map(journey_map: JourneyMap, out_dir: Path, formats: Iterable[str] = FORMATS, *,
              width: float = DEFAULT_WIDTH, scale: float = 1.0, max_touchpoints: int = 10,
              stem: str | None = None) -> list[Path]:
    """Write the map in each format into ``out_dir``; returns the files written, in format order.

    ``scale`` multiplies the PNG's pixel size (2 for slides on high-density screens);
    ``stem`` replaces the file names' ``journey_map`` (e.g. ``journey_map_enterprise``).
    """
    names = check_formats(formats)
    if scale <= 0:
        raise MapError(f"PNG scale must be positive, found {scale}")
    layout = lay_out(journey_map, width=width, max_touchpoints=max_touchpoints)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        filename, writer = WRITERS[name]
        path = out_dir / (filename.replace("journey_map", stem, 1) if stem else filename)
        content = writer(journey_map, layout, scale)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
