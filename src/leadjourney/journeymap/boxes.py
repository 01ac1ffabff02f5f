"""The drawing primitives of a laid-out map: boxes with text lines, and edges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from leadjourney.journeymap.text import measure


@dataclass(frozen=True)
class TextLine:
    """One line of text; ``y`` is the baseline, ``anchor`` is start, middle or end."""

    text: str
    x: float
    y: float
    size: float
    bold: bool = False
    color: str | None = None  # None: the box style's text colour
    anchor: str = "start"

    @property
    def width(self) -> float:
        return measure(self.text, self.size, self.bold)

    def rect(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the ink, for overlap checks."""
        w = self.width
        left = self.x - (w / 2 if self.anchor == "middle" else w if self.anchor == "end" else 0)
        return left, self.y - 0.8 * self.size, left + w, self.y + 0.25 * self.size


@dataclass
class Box:
    """A rectangle (or triangle marker) with its text; ``role`` says what it stands for."""

    id: str
    x: float
    y: float
    w: float
    h: float
    style: str
    role: str
    lines: list[TextLine] = field(default_factory=list)
    tooltip: str = ""
    data: dict[str, str] = field(default_factory=dict)
    parent: str | None = None  # the lane box containing it (draw.io groups by lane)
    shape: str = "rect"  # rect or triangle (pointing down)

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True)
class Edge:
    id: str
    source: str | None
    target: str | None
    points: tuple[tuple[float, float], ...]
    style: str
    label: TextLine | None = None


@dataclass
class Layout:
    width: float
    height: float
    title: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def texts(self) -> Iterator[TextLine]:
        for box in self.boxes:
            yield from box.lines
        for edge in self.edges:
            if edge.label is not None:
                yield edge.label

    def role(self, *roles: str) -> list[Box]:
        return [b for b in self.boxes if b.role in roles]

    def box(self, box_id: str) -> Box:
        return next(b for b in self.boxes if b.id == box_id)
