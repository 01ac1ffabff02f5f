"""The map as draw.io / diagrams.net XML, uncompressed (diffable); imports into Lucidchart and Miro.

Lanes are swimlane containers holding their stages, touchpoints and dark-lead boxes
(geometry relative to the lane); conversion, drop-off and persona cards sit on the
board. Stage-to-stage arrows and dark-lead lines are edges between cells.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape

from leadjourney.journeymap.boxes import Box, Layout
from leadjourney.journeymap.theme import EDGE_STYLES, STYLES

SKIPPED = ("lane-head",)  # the swimlane's own header shows the lane name


def to_drawio(layout: Layout) -> str:
    """draw.io XML text of the layout."""
    mxfile = ET.Element("mxfile", {"host": "leadjourney", "type": "device"})
    diagram = _sub(mxfile, "diagram", id="journey-map", name=layout.title[:60] or "Journey map")
    model = _sub(diagram, "mxGraphModel", dx="0", dy="0", grid="0", gridSize="10", guides="1", tooltips="1",
                 connect="1", arrows="1", fold="1", page="1", pageScale="1", pageWidth=f"{layout.width:g}",
                 pageHeight=f"{layout.height:g}", math="0", shadow="0")
    root = _sub(model, "root")
    _sub(root, "mxCell", id="0")
    _sub(root, "mxCell", id="1", parent="0")
    ids: dict[str, str] = {}
    boxes = [b for b in layout.boxes if b.role not in SKIPPED]
    for i, box in enumerate(boxes):
        ids[box.id] = f"c{i + 2}"
    by_id = {b.id: b for b in boxes}
    for box in boxes:
        parent = by_id.get(box.parent) if box.parent else None
        cell = _sub(root, "mxCell", id=ids[box.id], value=_label(box), style=_style(box),
                    parent=ids[parent.id] if parent else "1", vertex="1")
        if box.tooltip:
            cell.set("tooltip", box.tooltip)
        dx, dy = (parent.x, parent.y) if parent else (0.0, 0.0)
        _sub(cell, "mxGeometry", x=f"{box.x - dx:.1f}", y=f"{box.y - dy:.1f}", width=f"{box.w:.1f}",
             height=f"{box.h:.1f}", as_="geometry")
    n = len(boxes) + 2
    for edge in layout.edges:
        if edge.source not in ids or edge.target not in ids:
            continue  # a purely visual connector: the cards it joins are already side by side
        s = EDGE_STYLES[edge.style]
        style = (f"edgeStyle=orthogonalEdgeStyle;rounded=0;html=1;strokeColor={s.stroke};"
                 f"strokeWidth={s.stroke_width:g};endArrow={'block' if edge.style.startswith('flow') else 'none'};"
                 f"dashed={int(s.dashed)};fontStyle=1;fontSize=14;fontColor={s.stroke};")
        cell = _sub(root, "mxCell", id=f"c{n}", value=edge.label.text if edge.label else "", style=style,
                    parent="1", source=ids[edge.source], target=ids[edge.target], edge="1")
        _sub(cell, "mxGeometry", relative="1", as_="geometry")
        n += 1
    ET.indent(mxfile)
    return ET.tostring(mxfile, encoding="unicode", xml_declaration=False) + "\n"


def _sub(node: ET.Element, tag: str, **attrs: str) -> ET.Element:
    """A child element; ``as_`` stands for draw.io's ``as`` attribute."""
    return ET.SubElement(node, tag, {k.rstrip("_"): v for k, v in attrs.items()})


def _label(box: Box) -> str:
    if box.role == "lane":
        return escape(box.data.get("lane", ""))
    out = []
    for line in box.lines:
        text = escape(line.text)
        size = f'<font style="font-size:{line.size:g}px">{text}</font>'
        out.append(f"<b>{size}</b>" if line.bold else size)
    return "<br>".join(out)


def _style(box: Box) -> str:
    s = STYLES[box.style]
    fill = s.fill or "none"
    stroke = s.stroke if s.stroke and s.stroke_width else "none"
    if box.role == "lane":
        head = STYLES["lane-head"]
        return (f"swimlane;html=1;startSize=56;horizontal=1;fillColor={head.fill};swimlaneFillColor={fill};"
                f"fontColor={head.text};fontStyle=1;fontSize=17;strokeColor=none;collapsible=0;container=1;")
    shape = "triangle;direction=south;" if box.shape == "triangle" else "rounded=1;arcSize=8;absoluteArcSize=1;"
    align = "align=center;" if box.role in ("stage", "badge") else "align=left;spacingLeft=10;"
    return (f"{shape}whiteSpace=wrap;html=1;fillColor={fill};strokeColor={stroke};strokeWidth={s.stroke_width:g};"
            f"dashed={int(s.dashed)};fontColor={s.text};verticalAlign=top;{align}spacingTop=2;fontSize=12;"
            f"role={box.role};")
