"""The map as a standalone SVG: text as ``<text>``, hover details as ``<title>``, drop-offs red.

Each box is a ``<g>`` with ``class`` naming its role (``dropoff``, ``conversion``,
``touchpoint`` ...) and ``data-*`` attributes carrying its exact numbers.
"""

from __future__ import annotations

from leadjourney.escape import xml_attribute as quoteattr
from leadjourney.escape import xml_escaped as escape
from leadjourney.journeymap.boxes import Box, Edge, Layout, TextLine
from leadjourney.journeymap.text import FALLBACK_FAMILIES, FONT_FAMILY, font_base64
from leadjourney.journeymap.theme import EDGE_STYLES, STYLES


def to_svg(layout: Layout, *, standalone: bool = True) -> str:
    """SVG text of the layout (``standalone`` adds the XML declaration)."""
    w, h = layout.width, layout.height
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else "",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:g} {h:g}" width="{w:g}" height="{h:g}" '
        f'role="img" aria-label={quoteattr(layout.title)} class="leadjourney-map">\n',
        f"<title>{escape(layout.title)}</title>\n" if standalone else "",
        _defs(),
        f'<rect class="board" x="0" y="0" width="{w:g}" height="{h:g}" fill="#FFFFFF"/>\n',
    ]
    behind = [b for b in layout.boxes if b.role in ("lane", "lane-head", "band", "header")]
    front = [b for b in layout.boxes if b.role not in ("lane", "lane-head", "band", "header")]
    parts += [_box(b) for b in behind]
    parts += [_edge(e) for e in layout.edges]
    parts += [_box(b) for b in front]
    parts.append("</svg>\n")
    return "".join(parts)


def _defs() -> str:
    data = font_base64()
    face = (f"@font-face{{font-family:'{FONT_FAMILY}';src:url(data:font/ttf;base64,{data}) format('truetype');}}"
            if data else "")
    markers = "".join(
        f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{s.stroke}"/></marker>'
        for name, s in EDGE_STYLES.items() if name.startswith("flow")
    )
    return (f"<defs><style>{face}text{{font-family:'{FONT_FAMILY}',{FALLBACK_FAMILIES};}}"
            f".dropoff rect,.dropoff path{{stroke:#D32F2F;}}</style>{markers}</defs>\n")


def _attrs(box: Box) -> str:
    data = "".join(f" data-{k}={quoteattr(v)}" for k, v in box.data.items())
    return f' class="{box.role} {box.style}"{data}'


def _shape(box: Box) -> str:
    s = STYLES[box.style]
    fill = s.fill or "none"
    stroke = f' stroke="{s.stroke}" stroke-width="{s.stroke_width:g}"' if s.stroke and s.stroke_width else ""
    dash = ' stroke-dasharray="5 3"' if s.dashed else ""
    if box.shape == "triangle":
        pts = f"{box.x:.1f},{box.y:.1f} {box.right:.1f},{box.y:.1f} {box.x + box.w / 2:.1f},{box.bottom:.1f}"
        return f'<path d="M{pts.replace(" ", " L")} Z" fill="{fill}"{stroke}{dash}/>'
    r = min(s.radius, box.h / 2, box.w / 2)
    return (f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{r:g}" '
            f'fill="{fill}"{stroke}{dash}/>')


def _text(line: TextLine, color: str) -> str:
    anchor = "" if line.anchor == "start" else f' text-anchor="{line.anchor}"'
    weight = ' font-weight="bold"' if line.bold else ""
    return (f'<text x="{line.x:.1f}" y="{line.y:.1f}" font-size="{line.size:g}"{weight}{anchor} '
            f'fill="{line.color or color}">{escape(line.text)}</text>')


def _box(box: Box) -> str:
    title = f"<title>{escape(box.tooltip)}</title>" if box.tooltip else ""
    color = STYLES[box.style].text
    texts = "".join(_text(t, color) for t in box.lines)
    return f"<g{_attrs(box)}>{title}{_shape(box)}{texts}</g>\n"


def _edge(edge: Edge) -> str:
    s = EDGE_STYLES[edge.style]
    d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(edge.points))
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    arrow = f' marker-end="url(#arrow-{edge.style})"' if edge.style.startswith("flow") else ""
    label = _text(edge.label, s.stroke or "#000") if edge.label else ""
    cls = "edge " + edge.style + (" dropoff" if edge.style == "flow-dropoff" else "")
    return (f'<g class="{cls}"><path d="{d}" fill="none" stroke="{s.stroke}" stroke-width="{s.stroke_width:g}"'
            f"{dash}{arrow}/>{label}</g>\n")
