"""The map as a PNG for slides, drawn with Pillow from the same layout as the SVG."""

from __future__ import annotations

import io
import itertools
import math

from PIL import Image, ImageDraw

from leadjourney.journeymap.boxes import Box, Edge, Layout, TextLine
from leadjourney.journeymap.text import drawable, font
from leadjourney.journeymap.theme import EDGE_STYLES, STYLES

BEHIND = ("lane", "lane-head", "band", "header")


def to_png(layout: Layout, *, scale: float = 1.0) -> bytes:
    """PNG bytes of the layout, ``scale`` x its pixel size (2 for crisp slides)."""
    size = (max(1, round(layout.width * scale)), max(1, round(layout.height * scale)))
    image = Image.new("RGB", size, "#FFFFFF")
    pen = _Pen(ImageDraw.Draw(image), scale)
    for box in layout.boxes:
        if box.role in BEHIND:
            pen.box(box)
    for edge in layout.edges:
        pen.edge(edge)
    for box in layout.boxes:
        if box.role not in BEHIND:
            pen.box(box)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


class _Pen:
    def __init__(self, draw: ImageDraw.ImageDraw, scale: float) -> None:
        self.draw, self.s = draw, scale

    def box(self, box: Box) -> None:
        st = STYLES[box.style]
        s = self.s
        rect = (box.x * s, box.y * s, box.right * s, box.bottom * s)
        width = max(1, round(st.stroke_width * s)) if st.stroke and st.stroke_width else 0
        if box.shape == "triangle":
            pts = [(rect[0], rect[1]), (rect[2], rect[1]), ((rect[0] + rect[2]) / 2, rect[3])]
            self.draw.polygon(pts, fill=st.fill, outline=st.stroke)
        elif st.dashed and width:
            self.draw.rounded_rectangle(rect, radius=st.radius * s, fill=st.fill)
            self._dashed_rect(rect, st.stroke or "#000000", width)
        else:
            self.draw.rounded_rectangle(rect, radius=min(st.radius * s, (rect[3] - rect[1]) / 2),
                                        fill=st.fill, outline=st.stroke if width else None, width=width)
        for line in box.lines:
            self.text(line, st.text)

    def text(self, line: TextLine, color: str) -> None:
        s = self.s
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[line.anchor]
        self.draw.text((line.x * s, line.y * s), drawable(line.text), font=font(line.size * s), fill=line.color or color,
                       anchor=anchor, stroke_width=0.45 * s if line.bold else 0, stroke_fill=line.color or color)

    def edge(self, edge: Edge) -> None:
        st = EDGE_STYLES[edge.style]
        s = self.s
        pts = [(x * s, y * s) for x, y in edge.points]
        width = max(1, round(st.stroke_width * s))
        color = st.stroke or "#000000"
        for a, b in itertools.pairwise(pts):
            if st.dashed:
                self._dashed(a, b, color, width)
            else:
                self.draw.line([a, b], fill=color, width=width)
        if edge.style.startswith("flow") and len(pts) >= 2:
            self._arrowhead(pts[-2], pts[-1], color)
        if edge.label is not None:
            self.text(edge.label, color)

    def _arrowhead(self, a: tuple[float, float], b: tuple[float, float], color: str) -> None:
        angle = math.atan2(b[1] - a[1], b[0] - a[0])
        size = 11 * self.s
        left = (b[0] - size * math.cos(angle - 0.45), b[1] - size * math.sin(angle - 0.45))
        right = (b[0] - size * math.cos(angle + 0.45), b[1] - size * math.sin(angle + 0.45))
        self.draw.polygon([b, left, right], fill=color)

    def _dashed(self, a: tuple[float, float], b: tuple[float, float], color: str, width: int,
                dash: float = 6.0, gap: float = 4.0) -> None:
        length = math.dist(a, b)
        if length == 0:
            return
        dx, dy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        step, on = (dash + gap) * self.s, dash * self.s
        t = 0.0
        while t < length:
            end = min(t + on, length)
            self.draw.line([(a[0] + dx * t, a[1] + dy * t), (a[0] + dx * end, a[1] + dy * end)], fill=color,
                           width=width)
            t += step

    def _dashed_rect(self, rect: tuple[float, float, float, float], color: str, width: int) -> None:
        x0, y0, x1, y1 = rect
        for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            self._dashed(a, b, color, width, 5.0, 3.0)
