"""The deck's journey slide, drawn as slide shapes: every stage, each conversion, the biggest drop-offs.

The map as a picture shrank its text to 6.5 pt on a slide. Drawn natively, every word is slide text at
11 pt or more (checked like the rest of the deck), editable, and sharp on a projector: the stages as a row
of chevrons under their lanes, each conversion with its median time below the step it crosses (red where
the whole transition drops significantly, grey with its reason where too few to judge), and the few
drop-offs with the most recoverable revenue as cards. The full map is the deck's appendix picture.
"""

from __future__ import annotations

from itertools import groupby, pairwise
from typing import TYPE_CHECKING

from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Inches

from leadjourney.display import count, days, money, percent
from leadjourney.journeymap.model import DropOffPoint, JourneyMap
from leadjourney.reports.deck_layout import BAND, BOTTOM, INK, INNER, MARGIN, MUTED, TOP, WHITE

if TYPE_CHECKING:
    from leadjourney.reports.pptx_writer import _Deck

RED = RGBColor(0xD3, 0x2F, 0x2F)
MAX_DROP_OFFS = 3  # cards on the slide: the rest are in the friction table and the appendix map
LANE_PT, STAGE_PT, REACHED_PT, RATE_PT, TIME_PT, DROP_PT, DROP_MONEY_PT = 11, 16, 13, 20, 11, 13, 18


def biggest_drop_offs(jm: JourneyMap, n: int = MAX_DROP_OFFS) -> list[DropOffPoint]:
    """The ``n`` drop-offs with the most recoverable revenue (unpriced ones after, by friction rank)."""
    return sorted(jm.drop_offs, key=lambda d: (d.revenue_impact is None, -(d.revenue_impact or 0.0),
                                               d.friction_rank or 10**9))[:n]


def journey_slide(deck: _Deck, title: str, notes: str) -> None:
    """The stages, conversions and biggest drop-offs of ``deck``'s map as shapes on one slide."""
    jm = deck.p.journey_map
    slide = deck._slide(title)
    stages = list(jm.stages)
    if not stages:
        deck._text(slide, "No stages in this selection.", MARGIN, TOP, INNER, 20, INK)
        deck._notes(slide, notes)
        return
    step = Emu(INNER // len(stages))
    lane_top, row_top, row_h = TOP, Emu(TOP + Inches(0.4)), Inches(1.25)
    for lane, members in groupby(enumerate(stages), key=lambda x: x[1].lane):  # the lane over its stages
        first = list(members)
        left = Emu(MARGIN + first[0][0] * step)
        deck._text(slide, jm.name(lane).upper(), left, lane_top, Emu(step * len(first) - Inches(0.1)), LANE_PT,
                   MUTED, bold=True)
    red = {d.key for d in jm.drop_offs if d.segment is None}
    for i, stage in enumerate(stages):  # the chevron, and its text in a box inside its body
        left = Emu(MARGIN + i * step)
        shape = slide.shapes.add_shape(MSO_SHAPE.CHEVRON if i else MSO_SHAPE.PENTAGON, left, row_top,
                                       Emu(step + Inches(0.12)), row_h)
        deck._fill(shape, deck.color)
        deck._paragraphs(slide, [jm.name(stage.name), f"{count(stage.reached)} people"],
                         Emu(left + Inches(0.3 if i else 0.05)), Emu(row_top + Inches(0.2)),
                         Emu(step - Inches(0.45 if i else 0.3)), Emu(row_h - Inches(0.3)), size=REACHED_PT, space=0,
                         color=WHITE, align=PP_ALIGN.CENTER, first_size=STAGE_PT)
    conversions = {c.key: c for c in jm.conversions}
    rate_top = Emu(row_top + row_h + Inches(0.1))
    why: list[str] = []
    for i, (a, b) in enumerate(pairwise(stages)):
        c = conversions.get(f"{a.name}->{b.name}")
        if c is None:
            continue
        left = Emu(MARGIN + i * step + step // 2)
        judged = c.status.judged and c.rate is not None
        color = RED if c.key in red else INK if judged else MUTED
        rate = percent(c.rate) if c.rate is not None else "not shown"
        lines = [f"{rate} convert"] + ([] if judged else [c.status.text().partition(":")[0]])
        lines.append(f"median {days(c.median_days)}" if c.median_days is not None else "median time not known")
        if not judged:
            why.append(f"{jm.transition(a.name, b.name)}: {c.status.text()}")
        deck._paragraphs(slide, lines, left, rate_top, step, Inches(1.0), size=TIME_PT, space=0, color=color,
                         align=PP_ALIGN.CENTER, first_size=RATE_PT)
    _drop_off_cards(deck, slide, jm, Emu(rate_top + Inches(1.05)))
    deck._notes(slide, "\n".join([notes, *why]))


def _drop_off_cards(deck: _Deck, slide: Slide, jm: JourneyMap, top: Emu) -> None:
    """A card per biggest drop-off: where, who, the comparison and the money (or why none is priced)."""
    drops = biggest_drop_offs(jm)
    whole = len(jm.drop_offs)
    heading = (f"The {len(drops)} biggest of {whole} significant drop-offs" if whole > len(drops)
               else "No transition or segment drops significantly below its peers" if not drops
               else f"{'The' if whole > 1 else 'One'} significant drop-off{'s' if whole > 1 else ''}")
    deck._text(slide, heading, MARGIN, top, INNER, 18, INK, bold=True)
    if not drops:
        return
    gap = Inches(0.3)
    w = Emu((INNER - gap * (MAX_DROP_OFFS - 1)) // MAX_DROP_OFFS)
    card_top = Emu(top + Inches(0.5))
    h = Emu(BOTTOM - card_top)
    for i, d in enumerate(drops):
        left = Emu(MARGIN + i * (w + gap))
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, card_top, w, h)
        deck._fill(box, BAND)
        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, card_top, Inches(0.08), h)
        deck._fill(bar, RED)
        worth = (f"{money(d.revenue_impact, jm.currency)}/{jm.money_per} recoverable" if d.revenue_impact is not None
                 else f"recoverable: {d.revenue_status.text().partition(':')[0]}")  # as the map's tooltip says
        lines = [jm.transition(d.from_stage, d.to_stage), jm.segment_name(d.segment),
                 f"{percent(d.rate)} convert vs {percent(d.compared_with)} for {d.compared_with_label}"]
        inner = Emu(w - Inches(0.35))
        deck._paragraphs(slide, lines, Emu(left + Inches(0.2)), Emu(card_top + Inches(0.05)), inner,
                         Emu(h - Inches(0.6)), size=DROP_PT, space=2, bold_first=True)
        deck._text(slide, worth, Emu(left + Inches(0.2)), Emu(card_top + h - Inches(0.5)), inner,
                   DROP_MONEY_PT if d.revenue_impact is not None else DROP_PT, RED, bold=True)
