"""One layout of a journey map, computed once and drawn by every renderer (SVG, PNG, HTML, draw.io).

Coordinates are pixels at scale 1. Lanes are columns, left to right as configured; a lane
with several stages gets one column slot per stage. Top to bottom: header, lane heads,
the stage spine with conversion arrows, conversion cards (between their stages),
drop-offs (red, under their conversion), the dark-lead path (under the stages), persona
swim lanes, touchpoints (under their stage), then legend and caveats.

Text never overflows: lines are truncated or wrapped to their box as measured with the
font of :mod:`leadjourney.journeymap.text`, long columns collapse into a "+k more" card,
and each band grows to its tallest column, so no two text lines overlap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from leadjourney.display import money
from leadjourney.journeymap import cards
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.boxes import Box, Edge, Layout, TextLine
from leadjourney.journeymap.build import PERSONA_RULE
from leadjourney.journeymap.legend import footer
from leadjourney.journeymap.model import DropOffPoint, JourneyMap, TouchpointCard
from leadjourney.journeymap.theme import MUTED, RED

DEFAULT_WIDTH = 1920
MARGIN = 40.0
CARD_GAP = 8.0
BAND_GAP = 26.0


@dataclass(frozen=True)
class Slot:
    """A column under one stage (or under a lane without stages)."""

    lane: int
    stage: str | None
    x: float
    w: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


def lay_out(journey_map: JourneyMap, *, width: float = DEFAULT_WIDTH, max_touchpoints: int = 10,
            max_drop_offs: int = 4) -> Layout:
    """Position the map on a board ``width`` pixels wide; its height follows from the content.

    ``max_touchpoints`` cards per stage column (the rest collapse into "+k more"), and
    ``max_drop_offs`` per conversion point, likewise.
    """
    if width < 800:
        from leadjourney.errors import MapError

        raise MapError(f"a journey map needs at least 800 px of width, found {width}")
    return _Board(journey_map, width, max(2, max_touchpoints), max(2, max_drop_offs)).build()


def cropped_to_funnel(layout: Layout, gap: float = 12.0) -> Layout:
    """The layout's top part: header, lanes, stages, conversions and drop-offs (a slide's map).

    Cut above the first band after the drop-offs (dark leads, personas, touchpoints); the whole
    layout when it has no such band.
    """
    bands = [b.y for b in layout.boxes if b.role == "band-title"]
    if not bands:
        return layout
    cut = min(bands) - gap
    boxes = [b for b in layout.boxes if b.y < cut]
    edges = [e for e in layout.edges if min(y for _, y in e.points) < cut]
    return Layout(layout.width, cut, layout.title, boxes, edges)


def columns(journey_map: JourneyMap, width: float) -> tuple[list[tuple[float, float]], list[Slot]]:
    """Lane (x, w) spans and their slots: one unit per stage; 1 unit (0.75 if empty) without stages."""
    weights = [float(len(lane.stages)) if lane.stages else (1.0 if lane.touchpoints else 0.75)
               for lane in journey_map.lanes]
    unit = (width - 2 * MARGIN) / (sum(weights) or 1.0)
    spans, slots = [], []
    x = MARGIN
    for i, (lane, weight) in enumerate(zip(journey_map.lanes, weights, strict=True)):
        w = weight * unit
        spans.append((x, w))
        stages: tuple[str | None, ...] = lane.stages or (None,)
        slots += [Slot(i, stage, x + j * w / len(stages), w / len(stages)) for j, stage in enumerate(stages)]
        x += w
    return spans, slots


def overlaps(layout: Layout) -> list[tuple[TextLine, TextLine]]:
    """Pairs of text lines whose ink overlaps (empty for a readable map)."""
    rects = sorted(((t.rect(), t) for t in layout.texts() if t.text.strip()), key=lambda r: r[0][0])
    found = []
    for i, ((_, top1, right1, bottom1), a) in enumerate(rects):
        for (left2, top2, _, bottom2), b in rects[i + 1:]:
            if left2 >= right1:
                break
            if top2 < bottom1 and top1 < bottom2:
                found.append((a, b))
    return found


class _Board:
    def __init__(self, jm: JourneyMap, width: float, max_touchpoints: int, max_drop_offs: int) -> None:
        self.jm, self.width = jm, width
        self.max_touchpoints, self.max_drop_offs = max_touchpoints, max_drop_offs
        self.spans, self.slots = columns(jm, width)
        self.layout = Layout(width, 0, jm.title)
        self.center = {s.stage: s.cx for s in self.slots if s.stage}
        self.stage_slot = {s.stage: s for s in self.slots if s.stage}
        self.cards: dict[str, tuple[float, float]] = {}  # conversion key -> (x, w) of its column
        for c in jm.conversions:
            a, b = self.center.get(c.from_stage), self.center.get(c.to_stage)
            if a is not None and b is not None:
                w = min(b - a - 2 * CARD_GAP, 330.0)
                self.cards[c.key] = ((a + b) / 2 - w / 2, w)
        self.red = {d.key for d in jm.drop_offs if d.segment is None}
        self.arrow_y = 0.0  # the stage spine's centre line, set by spine()

    def add(self, *boxes: Box) -> None:
        self.layout.boxes.extend(boxes)

    def build(self) -> Layout:
        lanes = [Box(f"lane-{i}", x, 0, w, 0, "lane" if i % 2 == 0 else "lane-alt", "lane",
                     data={"lane": lane.name, "index": str(i)}, tooltip=lane.name)
                 for i, ((x, w), lane) in enumerate(zip(self.spans, self.jm.lanes, strict=True))]
        self.add(*lanes)
        y = self.header(MARGIN)
        for lane in lanes:
            lane.y = y
        y = self.lane_heads(y)
        y = self.spine(y + 24)
        y = self.conversions(y + 30)
        y = self.drop_offs(y + 14)
        y = self.dark(y + BAND_GAP)
        if self.jm.personas:
            y = self.personas(y + BAND_GAP)
        if self.jm.marketing:
            y = self.marketing(y + BAND_GAP)
        y = self.touchpoints(y + BAND_GAP)
        for lane in lanes:
            lane.h = y + 16 - lane.y
        boxes, y = footer(self.jm, MARGIN, y + 40, self.width - 2 * MARGIN)
        self.add(*boxes)
        self.layout.height = y + MARGIN
        return self.layout

    # ------------------------------------------------------------------ sections

    def worst_drop_off(self) -> DropOffPoint | None:
        """The red drop-off with the most recoverable revenue (a segment's, when every whole transition meets
        its target), if any carries revenue."""
        priced = [d for d in self.jm.drop_offs if d.revenue_impact]
        return max(priced, key=lambda d: d.revenue_impact or 0.0, default=None)

    def header(self, y: float) -> float:
        jm, inner = self.jm, self.width - 2 * MARGIN
        box = Box("header", MARGIN, y, inner, 84, "band", "header", tooltip=jm.title)
        right: list[TextLine] = []
        big = 16 if self.width >= 1600 else 13  # a narrow board leaves the title's lines room to stay whole
        top = min(jm.conversions, key=lambda c: c.friction_rank or 10**9, default=None)
        if top is not None and top.revenue_impact:
            right.append(TextLine(f"Biggest friction: {jm.transition(top.from_stage, top.to_stage)}, "
                                  f"{money(top.revenue_impact, jm.currency)}/{jm.money_per} recoverable",
                                  self.width - MARGIN, y + 28,
                                  big, True, color=RED if top.key in self.red else None, anchor="end"))
        elif (worst := self.worst_drop_off()) is not None:  # every transition meets its target, a segment does not
            right.append(TextLine(f"Biggest friction: {jm.transition(worst.from_stage, worst.to_stage)}, "
                                  f"{jm.segment_name(worst.segment)}, {money(worst.revenue_impact, jm.currency)}/"
                                  f"{jm.money_per} recoverable", self.width - MARGIN, y + 28, big, True, color=RED,
                                  anchor="end"))
        elif top is not None:  # nothing recoverable against the named targets: no transition is "the biggest"
            right.append(TextLine("No transition below its target: nothing recoverable", self.width - MARGIN,
                                  y + 28, big, True, anchor="end"))
        n_drop = len(jm.drop_offs)
        right.append(TextLine(f"{n_drop} drop-off point{'s' if n_drop != 1 else ''} flagged red",
                              self.width - MARGIN, y + 52, 13, color=RED if n_drop else MUTED, anchor="end"))
        room = inner - max((t.width for t in right), default=0) - 30
        if jm.unconfirmed:  # one banner instead of a badge on every card
            room = min(room, inner - self.banner(y + 62).w - 30)
        what = f"{jm.n_people:,} people · {jm.period} · data as of {tx.date_text(jm.as_of)}"
        long = f"Current-state journey map · {what}"  # the title says it is the map when room is short
        what, what_size = tx.fit(long if tx.measure(long, 11) <= room else what, room, 15, 11)
        how, how_size = tx.fit(f"Funnel counted by {jm.funnel_mode.replace('_', ' ')}; rates with 95% intervals; "
                               "median time in stage (* = of those who moved on only)", room, 13, 10)
        box.lines += [
            TextLine(tx.truncate(jm.title, room, 30, True), MARGIN, y + 30, 30, True, color="#1F2A44"),
            TextLine(what, MARGIN, y + 56, what_size, color="#1F2A44"),
            TextLine(how, MARGIN, y + 76, how_size),
            *right,
        ]
        self.add(box)
        return y + 96

    def banner(self, y: float) -> Box:
        """The header's "N findings not yet confirmed" banner, right-aligned (added on the first call)."""
        n = self.jm.unconfirmed
        text = f"{n} finding{'s' if n != 1 else ''} not yet confirmed by stakeholders"
        w = tx.measure(text, 12, True) + 20
        existing = [b for b in self.layout.boxes if b.id == "unconfirmed"]
        if existing:
            return existing[0]
        box = Box("unconfirmed", self.width - MARGIN - w, y, w, 20, "badge-ASSUMED", "banner",
                  tooltip="The numbers on this map are ASSUMED until stakeholders confirm or correct them "
                          "(`leadjourney findings`); a CONFIRMED or CORRECTED card carries a badge.",
                  data={"unconfirmed": str(n)})
        box.lines.append(TextLine(text, self.width - MARGIN - 10, y + 14, 12, True, anchor="end"))
        self.add(box)
        return box

    def lane_heads(self, y: float) -> float:
        for i, ((x, w), lane) in enumerate(zip(self.spans, self.jm.lanes, strict=True)):
            head = Box(f"lane-head-{i}", x, y, w, 56, "lane-head", "lane-head", parent=f"lane-{i}",
                       data={"lane": lane.name}, tooltip=lane.name)
            cx = x + w / 2
            sub = ("stage: " if len(lane.stages) == 1 else "stages: ") + ", ".join(map(self.jm.name, lane.stages)) \
                if lane.stages else "no stage configured"
            name, size = tx.fit(lane.name.upper(), w - 16, 17, 12, True)
            sub, sub_size = tx.fit(sub, w - 16, 12, 10)
            head.lines += [TextLine(name, cx, y + 26, size, True, anchor="middle"),
                           TextLine(sub, cx, y + 45, sub_size, color="#C5CEE0", anchor="middle")]
            self.add(head)
        return y + 56

    def spine(self, y: float) -> float:
        for stage in self.jm.stages:
            slot = self.stage_slot.get(stage.name)
            if slot is not None:
                self.add(cards.stage_box(stage, slot.cx, y, min(slot.w * 0.62, 210.0), f"lane-{slot.lane}",
                                         self.jm.name(stage.name)))
        tallest = 74.0
        for slot in self.slots:
            if slot.stage is None:
                tallest = max(tallest, self.empty_lane(slot, y).h)
        cy = y + 37
        self.arrow_y = cy
        for c in self.jm.conversions:
            if c.key not in self.cards:
                continue
            a, b = self.layout.box(f"stage-{c.from_stage}"), self.layout.box(f"stage-{c.to_stage}")
            mid = (a.right + b.x) / 2
            label = TextLine(tx.truncate(tx.pct(c.rate), b.x - a.right - 10, 15, True), mid, cy - 8, 15, True,
                             color=RED if c.key in self.red else "#1F2A44", anchor="middle")
            self.layout.edges.append(Edge(f"flow-{c.key}", a.id, b.id, ((a.right, cy), (b.x, cy)),
                                          "flow-dropoff" if c.key in self.red else "flow", label))
        return y + tallest

    def empty_lane(self, slot: Slot, y: float) -> Box:
        """A lane without a stage says what data would fill it, where its stage would stand."""
        lane = self.jm.lanes[slot.lane]
        text = self.jm.empty_lane_plain(lane.name)
        w = min(slot.w - 24, 240.0)
        box = Box(f"empty-lane-{slot.lane}", slot.cx - w / 2, y, w, 0, "placeholder", "empty-lane",
                  parent=f"lane-{slot.lane}", tooltip=self.jm.empty_lane_note(lane.name), data={"lane": lane.name})
        at = y + 22
        for line in tx.wrap(text, w - 2 * cards.PAD, 12, max_lines=6):
            box.lines.append(TextLine(line, slot.cx, at, 12, anchor="middle"))
            at += cards.LINE - 1
        box.h = max(74.0, at - y - 1)
        self.add(box)
        return box

    def conversions(self, y: float) -> float:
        built = []
        for c in self.jm.conversions:
            if c.key not in self.cards:
                continue
            x, w = self.cards[c.key]
            boxes = cards.conversion_card(c, x, y, w, jm=self.jm, red=c.key in self.red and c.status.judged)
            built.append(boxes)
            has_drop = any(d.key == c.key for d in self.jm.drop_offs)
            mid = x + w / 2
            if has_drop:
                marker = Box(f"marker-{c.key}", mid - 8, self.arrow_y + 6, 16, 13, "marker", "marker",
                             shape="triangle", tooltip=f"drop-off points at {self.jm.transition(c.from_stage, c.to_stage)}",
                             data={"key": c.key})
                self.add(marker)
            self.layout.edges.append(Edge(f"connector-{c.key}", None, boxes[0].id,
                                          ((mid, self.arrow_y + (20 if has_drop else 2)), (mid, y)), "connector"))
        height = max((b[0].h for b in built), default=0.0)
        for boxes in built:
            boxes[0].h = height
            self.add(*boxes)
        return y + height

    def drop_offs(self, y: float) -> float:
        by_key: dict[str, list] = defaultdict(list)
        for d in self.jm.drop_offs:
            by_key[d.key].append(d)
        if not by_key:
            note = Box("dropoff-none", MARGIN, y, self.width - 2 * MARGIN, 24, "note", "note")
            note.lines.append(TextLine("No drop-off points: no transition converts significantly below its "
                                       "benchmark or the other sources.", MARGIN + 8, y + 17, 13))
            self.add(note)
            return y + 24
        bottom = y
        for key, items in by_key.items():
            if key not in self.cards:
                continue
            x, w = self.cards[key]
            items = sorted(items, key=lambda d: (-(d.revenue_impact or 0.0), d.label))
            shown = items if len(items) <= self.max_drop_offs else items[: self.max_drop_offs - 1]
            top = y
            for i, d in enumerate(shown):
                boxes = cards.drop_off_card(d, x, top, w, jm=self.jm, index=i)
                self.add(*boxes)
                top += boxes[0].h + CARD_GAP
            if len(shown) < len(items):
                more = cards.more_drop_offs(key, items[len(shown):], x, top, w, self.jm)
                self.add(more)
                top += more.h + CARD_GAP
            bottom = max(bottom, top - CARD_GAP)
        return bottom

    def band_title(self, name: str, y: float, title: str, detail: str) -> Box:
        """A band's title chip: drawn over the edges that cross it, as wide as its text."""
        box = Box(f"band-{name}", MARGIN, y - 2, 0, 24, "band-title", "band-title")
        x = MARGIN + 8
        box.lines.append(TextLine(title, x, y + 15, 13, True, color="#1F2A44"))
        x += tx.measure(title, 13, True) + 10
        box.lines.append(TextLine(tx.truncate(detail, self.width - MARGIN - 8 - x, 13), x, y + 15, 13))
        box.w = box.lines[-1].rect()[2] + 8 - box.x
        return box

    def dark(self, y: float) -> float:
        d, jm = self.jm.dark, self.jm
        if not d.status.shown:
            self.add(self.band_title("dark", y, "DARK-LEAD PATH", d.status.text()))
            return y + 20
        if not d.n_open:
            self.add(self.band_title("dark", y, "DARK-LEAD PATH", "no open people in this selection"))
            return y + 20
        detail = (f"{d.n_dark:,} of {d.n_open:,} open people ({tx.pct(d.share)}) silent for {d.dark_after_days}+ "
                  f"days (median {tx.days(d.median_days_silent)} silent); {d.n_re_engaged:,} came back after "
                  f"a silence, {d.then_advanced:,} then advanced")
        title = self.band_title("dark", y, "DARK-LEAD PATH", detail)
        self.add(title)
        if d.mark and cards.shows_badge(d.mark):  # the badge follows the chip; the detail is cut to leave room for it
            probe = cards.badge("dark", d.mark, 0, y + 2)
            room = self.width - MARGIN - probe.w - 16 - title.lines[1].x
            title.lines[1] = TextLine(tx.truncate(detail, room, 13), title.lines[1].x, y + 15, 13)
            title.w = title.lines[1].rect()[2] + 8 - title.x
            self.add(cards.badge("dark", d.mark, title.right + 8 + probe.w, y + 2))
        top = y + 30
        stages = [s.name for s in jm.stages]
        for name in stages[:-1]:
            slot = self.stage_slot.get(name)
            if slot is None:
                continue
            w = min(slot.w - 24, 220.0)
            count = d.by_stage.get(name, 0)
            box = Box(f"dark-{name}", slot.cx - w / 2, top, w, 64, "dark", "dark", parent=f"lane-{slot.lane}",
                      tooltip=f"{count:,} open people went dark with {jm.name(name)} as the furthest stage reached",
                      data={"stage": name, "count": str(count)})
            box.lines += [TextLine(tx.truncate(f"{count:,} went dark", w - 24, 14, True), box.x + 12, top + 24, 14,
                                   True),
                          TextLine(tx.truncate(f"furthest stage: {jm.name(name)}", w - 24, 12), box.x + 12, top + 44,
                                   12)]
            self.add(box)
            self.layout.edges.append(Edge(f"dark-{name}", f"stage-{name}", box.id,
                                          ((slot.cx, self.arrow_y + 37), (slot.cx, top)), "dark"))
        bottom = top + 64
        kinds = ", ".join(f"{jm.name(k)} {n:,}" for k, n in d.re_engaged_by.items())
        if d.re_engaged_by_stage:  # who came back, under the stage they had reached: in that stage's lane
            for name in stages:
                slot, count = self.stage_slot.get(name), d.re_engaged_by_stage.get(name, 0)
                if slot is None or not count:
                    continue
                w = min(slot.w - 24, 220.0)
                at = top + 64 + CARD_GAP  # a row under the dark boxes, also where a stage has none
                box = Box(f"reengaged-{name}", slot.cx - w / 2, at, w, 46, "reengaged", "reengaged",
                          parent=f"lane-{slot.lane}",
                          tooltip=f"{count:,} people came back after {d.dark_after_days}+ silent days with "
                                  f"{jm.name(name)} as the furthest stage reached by then; all stages: "
                                  f"{d.n_re_engaged:,} ({kinds}), {d.then_advanced:,} then entered a later stage",
                          data={"stage": name, "count": str(count)})
                box.lines += [
                    TextLine(tx.truncate(f"{count:,} came back", w - 24, 14, True), box.x + 12, at + 20, 14, True),
                    TextLine(tx.truncate(f"after {d.dark_after_days}+ silent days", w - 24, 12), box.x + 12,
                             at + 37, 12),
                ]
                self.add(box)
                bottom = max(bottom, at + 46)
            return bottom
        last = self.stage_slot.get(stages[-1]) if stages else None
        if last is not None:  # an analysis without the stages they came back at: one box, under the last stage
            w = min(last.w - 24, 280.0)
            box = Box("reengaged", last.cx - w / 2, top, w, 64, "reengaged", "reengaged", parent=f"lane-{last.lane}",
                      tooltip=f"{d.n_re_engaged:,} people re-engaged after {d.dark_after_days}+ silent days "
                              f"({kinds}); {d.then_advanced:,} then entered a later stage",
                      data={"count": str(d.n_re_engaged), "advanced": str(d.then_advanced)})
            box.lines += [
                TextLine(tx.truncate(f"{d.n_re_engaged:,} re-engaged", w - 24, 14, True), box.x + 12, top + 20, 14, True),
                TextLine(tx.truncate(f"by {kinds}" if kinds else "no re-engagement", w - 24, 12), box.x + 12, top + 38, 12),
                TextLine(tx.truncate(f"{d.then_advanced:,} then advanced", w - 24, 12), box.x + 12, top + 55, 12),
            ]
            self.add(box)
        return bottom

    def personas(self, y: float) -> float:
        self.add(self.band_title("personas", y, "PERSONA SWIM LANES", f"{PERSONA_RULE}; coloured where it does"))
        top = y + 30
        first = min((x for x, _ in self.cards.values()), default=MARGIN + 200)
        label_w = max(60.0, first - CARD_GAP - (MARGIN + 8))
        for lane in self.jm.personas:
            name = self.jm.name(lane.name)
            label = Box(f"persona-{lane.name}", MARGIN + 8, top, label_w, 46, "persona-label", "persona-label",
                        tooltip=f"{name}: {lane.n_people:,} people", data={"persona": lane.name})
            room = label_w - 16
            size = tx.fitting_size(name, room, 13, 11, True)  # a long persona name shrinks, then takes two lines
            if tx.measure(name, size, True) <= room:
                label.lines += [TextLine(name, label.x + 8, top + 20, size, True),
                                TextLine(tx.truncate(f"{lane.n_people:,} people", room, 12), label.x + 8, top + 37, 12)]
            else:
                label.lines += [TextLine(line, label.x + 8, top + 15 + 13 * k, 11, True)
                                for k, line in enumerate(tx.wrap(name, room, 11, True, max_lines=2))]
                label.lines.append(TextLine(tx.truncate(f"{lane.n_people:,} people", room, 11), label.x + 8, top + 41,
                                            11))
            self.add(label)
            for p in lane.points:
                if p.key in self.cards:
                    x, w = self.cards[p.key]
                    self.add(cards.persona_cell(lane, p, x, top, w, self.jm))
            top += 46 + CARD_GAP
        return top - CARD_GAP

    def marketing(self, y: float) -> float:
        """Web and campaign touchpoints under their stage (landing pages, campaigns, content, nurtures)."""
        self.add(self.band_title("marketing", y, "WEB AND CAMPAIGNS",
                                 "landing pages and e-mail campaigns as leads arrive, content and nurtures before "
                                 "the next stage · figures from the analysis, 95% intervals · red: significant"))
        top, bottom = y + 30, y + 30
        per_stage: dict[str, list] = defaultdict(list)
        for p in self.jm.marketing:
            per_stage[p.stage].append(p)
        for stage, points in per_stage.items():
            slot = self.stage_slot.get(stage)
            if slot is None:
                continue
            w = min(slot.w - 24, 330.0)
            at = top
            for i, p in enumerate(points):
                box = cards.marketing_card(p, slot.cx - w / 2, at, w, parent=f"lane-{slot.lane}", index=i)
                self.add(box)
                at += box.h + CARD_GAP
            bottom = max(bottom, at - CARD_GAP)
        return bottom

    def touchpoints(self, y: float) -> float:
        self.add(self.band_title("touchpoints", y, "TOUCHPOINTS",
                                 "by the stage the lead was in · automated (blue, dashed) or human (orange) · "
                                 "bar length = volume, against the busiest of its lane"))
        top = y + 30
        per_slot: dict[int, list[TouchpointCard]] = defaultdict(list)
        for i, slot in enumerate(self.slots):
            lane = self.jm.lanes[slot.lane]
            for t in lane.touchpoints:
                own = t.stage == slot.stage or (slot.stage == (lane.stages or (None,))[0]
                                                and t.stage not in lane.stages)
                if own:
                    per_slot[i].append(t)
        visible = {i: rows if len(rows) <= self.max_touchpoints else rows[: self.max_touchpoints - 1]
                   for i, rows in per_slot.items()}
        lane_max: dict[int, int] = defaultdict(int)  # bars scale per lane: a small lane's bars stay visible
        for i, rows in visible.items():
            lane_max[self.slots[i].lane] = max([lane_max[self.slots[i].lane], *(t.volume for t in rows)])
        bottom = top
        for i, slot in enumerate(self.slots):
            w = min(slot.w - 24, 330.0)
            x = slot.cx - w / 2
            lane = self.jm.lanes[slot.lane]
            parent = f"lane-{slot.lane}"
            rows, shown = per_slot.get(i, []), visible.get(i, [])
            at = top
            if not rows:
                note = Box(f"touch-none-{i}", x, at, w, 24, "note", "note", parent=parent)
                note.lines.append(TextLine(tx.truncate("no touchpoints recorded", w, 12), slot.cx, at + 16, 12,
                                           anchor="middle"))
                self.add(note)
                at += 24 + CARD_GAP
            start = sum(len(per_slot.get(k, [])) for k in range(i))
            for j, t in enumerate(shown):
                self.add(*cards.touchpoint_card(t, x, at, w, max_volume=lane_max[slot.lane], parent=parent,
                                                index=start + j, jm=self.jm))
                at += 50 + CARD_GAP
            if len(shown) < len(rows):
                self.add(cards.more_touchpoints(lane.name, i, rows[len(shown):], x, at, w, parent, self.jm))
                at += 50 + CARD_GAP
            bottom = max(bottom, at - CARD_GAP)
        return bottom
