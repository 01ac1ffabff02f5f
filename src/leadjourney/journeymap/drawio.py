"""The map as draw.io / diagrams.net XML, uncompressed (diffable); imports into Lucidchart and Miro.

Lanes are swimlane containers holding their stages, touchpoints and dark-lead boxes
(geometry relative to the lane); conversion, drop-off and persona cards sit on the
board. Each box's text lines are text cells inside the box, placed where the layout puts
them (a right-aligned badge beside a title, a subtitle beside a band's pill), since one
stacked label per box does not reproduce the layout. A box with a tooltip is a UserObject,
as draw.io stores one. Stage-to-stage arrows and dark-lead lines are edges between cells,
held by the nearest container of both ends and drawn behind that container's cards; a
connector with an end on no box has a point there.
bench/drawio_check.py opens the file in draw.io's own viewer.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from html import escape as _html_escape

from leadjourney.escape import xml_text
from leadjourney.journeymap.boxes import Box, Edge, Layout, TextLine
from leadjourney.journeymap.text import measure
from leadjourney.journeymap.theme import EDGE_STYLES, STYLES


def _label_text(text: str, quote: bool = True) -> str:
    """Text for a draw.io label's HTML: escaped, without the control characters XML cannot hold."""
    return _html_escape(xml_text(text), quote=quote)

SKIPPED = ("lane-head",)  # the swimlane's own header shows the lane head's lines
BEHIND = ("lane", "header", "band")  # drawn before the board's edges, as in the SVG
FONT = "fontFamily=Helvetica;"  # draw.io's default face; the layout measures the map's own, of similar width
LINE_HEIGHT = 1.2  # draw.io's line height for HTML labels, in font sizes
BASELINE = 0.95  # baseline below the top of a one-line label, in font sizes (half leading + ascent)


def to_drawio(layout: Layout) -> str:
    """draw.io XML text of the layout."""
    mxfile = ET.Element("mxfile", {"host": "leadjourney", "type": "device"})
    diagram = _sub(mxfile, "diagram", id="journey-map", name=layout.title[:60] or "Journey map")
    model = _sub(diagram, "mxGraphModel", dx="0", dy="0", grid="0", gridSize="10", guides="1", tooltips="1",
                 connect="1", arrows="1", fold="1", page="1", pageScale="1", pageWidth=f"{layout.width:g}",
                 pageHeight=f"{layout.height:g}", math="0", shadow="0")
    _Writer(layout, _sub(model, "root")).write()
    ET.indent(mxfile)
    return ET.tostring(mxfile, encoding="unicode", xml_declaration=False) + "\n"


class _Writer:
    def __init__(self, layout: Layout, root: ET.Element) -> None:
        self.layout, self.root = layout, root
        self.boxes = [b for b in layout.boxes if b.role not in SKIPPED]
        self.by_id = {b.id: b for b in self.boxes}
        self.ids = {b.id: f"c{i + 2}" for i, b in enumerate(self.boxes)}
        self.heads = {b.parent: b for b in layout.boxes if b.role == "lane-head" and b.parent}
        self.n = len(self.boxes) + 2
        self.children: dict[str | None, list[Box]] = {}
        for box in self.boxes:
            self.children.setdefault(box.parent if box.parent in self.by_id else None, []).append(box)
        self.edges: dict[str | None, list[Edge]] = {}
        for edge in layout.edges:  # one without both ends is a purely visual connector, drawn by its points
            self.edges.setdefault(self._holder(edge) if self._joins(edge) else None, []).append(edge)

    def write(self) -> None:
        _sub(self.root, "mxCell", id="0")
        _sub(self.root, "mxCell", id="1", parent="0")
        # as in the SVG: lanes and the header behind, then the board's edges, then the board's cards
        board = self.children.get(None, [])
        for box in board:
            if box.role in BEHIND:
                self._box(box)
        for edge in self.edges.get(None, []):
            self._edge(edge, None)
        for box in board:
            if box.role not in BEHIND:
                self._box(box)

    def _joins(self, edge: Edge) -> bool:
        return edge.source in self.ids and edge.target in self.ids

    def _holder(self, edge: Edge) -> str | None:
        """The nearest box containing both ends (None: the board), as draw.io keeps an edge's parent."""
        def chain(box_id: str | None) -> list[str]:
            out = []
            while box_id in self.by_id:
                out.append(str(box_id))
                box_id = self.by_id[str(box_id)].parent
            return out
        theirs = chain(edge.target)
        return next((b for b in chain(edge.source)[1:] if b in theirs), None)

    def _next_id(self) -> str:
        self.n += 1
        return f"c{self.n - 1}"

    def _box(self, box: Box) -> None:
        parent = self.by_id.get(box.parent) if box.parent else None
        attrs = {"id": self.ids[box.id], "value": self._lane_label(box) if box.role == "lane" else "",
                 "style": _style(box), "parent": self.ids[parent.id] if parent else "1", "vertex": "1"}
        cell = self._cell(attrs, box.tooltip)
        dx, dy = (parent.x, parent.y) if parent else (0.0, 0.0)
        _sub(cell, "mxGeometry", x=f"{box.x - dx:.1f}", y=f"{box.y - dy:.1f}", width=f"{box.w:.1f}",
             height=f"{box.h:.1f}", as_="geometry")
        for edge in self.edges.get(box.id, []):  # behind the cards it holds
            self._edge(edge, box)
        for line in box.lines:
            self._text(line, box)
        for child in self.children.get(box.id, []):
            self._box(child)

    def _cell(self, attrs: dict[str, str], tooltip: str) -> ET.Element:
        """An mxCell, inside a UserObject carrying the label and tooltip when there is a tooltip."""
        if not tooltip:
            return _sub(self.root, "mxCell", **attrs)
        obj = _sub(self.root, "UserObject", label=attrs.pop("value"), tooltip=_label_text(tooltip, quote=False),
                   id=attrs.pop("id"))  # draw.io reads a tooltip as HTML (a newline is a line break)
        return _sub(obj, "mxCell", **attrs)

    def _lane_label(self, lane: Box) -> str:
        head = self.heads.get(lane.id)
        if head is None or not head.lines:
            return _label_text(lane.data.get("lane", ""))
        return "<br>".join(_html(line, STYLES[head.style].text) for line in head.lines)

    def _text(self, line: TextLine, box: Box) -> None:
        """One text line as a text cell in its box, its baseline and anchor where the layout has them."""
        w = measure(line.text, line.size, line.bold) * 1.1 + 4  # room for a slightly wider face
        left = line.x - (w / 2 if line.anchor == "middle" else w if line.anchor == "end" else 0)
        align = {"middle": "center", "end": "right"}.get(line.anchor, "left")
        color = line.color or STYLES[box.style].text
        style = (f"text;html=1;strokeColor=none;fillColor=none;align={align};verticalAlign=middle;spacing=0;"
                 f"spacingTop=0;spacingBottom=0;spacingLeft=0;spacingRight=0;overflow=visible;{FONT}"
                 f"fontSize={line.size:g};fontStyle={int(line.bold)};fontColor={color};resizable=0;"
                 f"rotatable=0;connectable=0;")
        cell = _sub(self.root, "mxCell", id=self._next_id(), value=_label_text(line.text), style=style,
                    parent=self.ids[box.id], vertex="1")
        _sub(cell, "mxGeometry", x=f"{left - box.x:.1f}", y=f"{line.y - BASELINE * line.size - box.y:.1f}",
             width=f"{w:.1f}", height=f"{LINE_HEIGHT * line.size:.1f}", as_="geometry")

    def _edge(self, edge: Edge, holder: Box | None) -> None:
        """An edge in its holder (None: the board); its points are relative to the holder."""
        s = EDGE_STYLES[edge.style]
        ox, oy = (holder.x, holder.y) if holder else (0.0, 0.0)
        label = edge.label
        style = (f"edgeStyle=orthogonalEdgeStyle;rounded=0;html=1;strokeColor={s.stroke};"
                 f"strokeWidth={s.stroke_width:g};endArrow={'block' if edge.style.startswith('flow') else 'none'};"
                 f"endFill=1;dashed={int(s.dashed)};{'dashPattern=6 4;' if s.dashed else ''}"
                 f"labelBackgroundColor=none;{FONT}"
                 f"fontStyle={int(label.bold) if label else 0};fontSize={label.size if label else 12:g};"
                 f"fontColor={label.color or s.stroke if label else s.stroke};")
        ends = {end: self.ids[str(box)] for end, box in (("source", edge.source), ("target", edge.target))
                if box in self.ids}  # an end on no box (a connector from a marker) is a point
        cell = _sub(self.root, "mxCell", id=self._next_id(), value=_label_text(label.text) if label else "", style=style,
                    parent=self.ids[holder.id] if holder else "1", edge="1", **ends)
        geo = _sub(cell, "mxGeometry", relative="1", as_="geometry")
        if len(edge.points) >= 2:
            (x0, y0), *middle, (x1, y1) = [(x - ox, y - oy) for x, y in edge.points]
            if "source" not in ends:
                _sub(geo, "mxPoint", x=f"{x0:.1f}", y=f"{y0:.1f}", as_="sourcePoint")
            if "target" not in ends:
                _sub(geo, "mxPoint", x=f"{x1:.1f}", y=f"{y1:.1f}", as_="targetPoint")
            if middle:
                waypoints = _sub(geo, "Array", as_="points")
                for x, y in middle:
                    _sub(waypoints, "mxPoint", x=f"{x:.1f}", y=f"{y:.1f}")
        if label and len(edge.points) >= 2:  # draw.io centres the label on the edge: move it where the layout has it
            mx, my = _halfway(edge.points)
            w = measure(label.text, label.size, label.bold)
            cx = label.x + (w / 2 if label.anchor == "start" else -w / 2 if label.anchor == "end" else 0)
            cy = label.y - BASELINE * label.size + LINE_HEIGHT * label.size / 2
            _sub(geo, "mxPoint", x=f"{cx - mx:.1f}", y=f"{cy - my:.1f}", as_="offset")


def _sub(node: ET.Element, tag: str, **attrs: str) -> ET.Element:
    """A child element; ``as_`` stands for draw.io's ``as`` attribute."""
    return ET.SubElement(node, tag, {k.rstrip("_"): v for k, v in attrs.items()})


def _halfway(points: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """The point halfway along a polyline, where draw.io puts an edge's label."""
    legs = [math.dist(a, b) for a, b in itertools.pairwise(points)]
    left = sum(legs) / 2
    for (a, b), leg in zip(itertools.pairwise(points), legs, strict=True):
        if left <= leg and leg > 0:
            return a[0] + (b[0] - a[0]) * left / leg, a[1] + (b[1] - a[1]) * left / leg
        left -= leg
    return points[-1]


def _html(line: TextLine, color: str) -> str:
    text = f'<font style="font-size:{line.size:g}px" color="{line.color or color}">{_label_text(line.text)}</font>'
    return f"<b>{text}</b>" if line.bold else text


def _style(box: Box) -> str:
    s = STYLES[box.style]
    fill = s.fill or "none"
    stroke = s.stroke if s.stroke and s.stroke_width else "none"
    if box.role == "lane":
        head = STYLES["lane-head"]
        return (f"swimlane;html=1;startSize=56;horizontal=1;fillColor={head.fill};swimlaneFillColor={fill};"
                f"fontColor={head.text};fontStyle=0;fontSize=17;{FONT}strokeColor=none;swimlaneLine=0;"
                f"collapsible=0;container=1;")
    if box.shape == "triangle":
        shape = "triangle;direction=south;"
    elif s.radius > 0:
        shape = f"rounded=1;arcSize={2 * s.radius:g};absoluteArcSize=1;"  # the arc's diameter, in px
    else:
        shape = "rounded=0;"
    return (f"{shape}html=1;fillColor={fill};strokeColor={stroke};strokeWidth={s.stroke_width:g};"
            f"dashed={int(s.dashed)};{'dashPattern=5 3;' if s.dashed else ''}fontColor={s.text};role={box.role};")
