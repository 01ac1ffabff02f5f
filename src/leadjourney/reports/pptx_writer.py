"""The board deck (python-pptx): one takeaway per slide, an executive summary, the detail in the notes.

16:9 slides in the workspace's colour ([engagement] color). Each title is a takeaway computed
from the results (:mod:`leadjourney.reports.headlines`), not a label; tables hold at most five
rows at 14 pt or more, numbers right-aligned and rounded, text wrapped (never cut mid-word);
the method, the targets and every caveat go to the speaker notes. Slides are numbered; the
footer names the engagement, never a file path. The full journey map is the appendix.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Inches, Length, Pt

from leadjourney.analysis.definitions import REQUIRED_ROLES
from leadjourney.analysis.findings import ASSUMED
from leadjourney.display import count, display_name, money, percent, segment_name
from leadjourney.reports import headlines as hl
from leadjourney.reports.charts import funnel_notes, funnel_png
from leadjourney.reports.deck_journey import journey_slide
from leadjourney.reports.deck_layout import (
    BAND,
    BODY_PT,
    BOTTOM,
    CAPTION_MIN,
    CAPTION_PT,
    CARD_PT,
    FOOTER_PT,
    FOOTNOTE_PT,
    HEIGHT,
    INK,
    INNER,
    LEGEND_LINES,
    LEGEND_PT,
    MARGIN,
    MAX_CARDS,
    MAX_ROWS,
    MUTED,
    TABLE_PT,
    TITLE_PT,
    TOP,
    WHITE,
    WIDTH,
)
from leadjourney.reports.evidence import fmt
from leadjourney.reports.interviews import ROLES
from leadjourney.reports.people import humanize

if TYPE_CHECKING:
    from leadjourney.analysis.friction import Friction, FrictionRow
    from leadjourney.reports.definitions import TermStatus
    from leadjourney.reports.package import ReportPackage



@dataclass(frozen=True)
class Column:
    header: str
    width: float  # inches
    numeric: bool = False  # right-aligned


def to_pptx(p: ReportPackage) -> bytes:
    """The deck as .pptx bytes."""
    from leadjourney.reports.document import BOARD_MAP, MATRIX_IMAGE

    deck = _Deck(p)
    deck.title_slide()
    deck.summary()
    a, fr, cur, labels = p.analysis, p.analysis.friction, p.currency, p.labels
    deck.picture(hl.funnel_headline(a.funnel, labels), funnel_png(a.funnel, labels=labels, notes=False),
                 _funnel_notes(p), footnotes=funnel_notes(a.funnel, labels))
    journey_slide(deck, _map_headline(p),
                  "The stages, their conversion and median time, and the significant drop-offs with the most "
                  "recoverable revenue (red). The full map, with touchpoints, personas, dark leads and every "
                  "drop-off, is in the appendix.")
    rows = losing_rows(fr)
    deck.table(hl.friction_headline(fr, cur, labels),
               [Column("#", 0.6, True), Column("Where", 3.1), Column("Who", 3.0), Column("Converts", 1.6, True),
                Column("Target", 1.6, True), Column(f"Recoverable / {fr.per}", 2.5, True)],
               [[str(r.rank), hl.transition_name(r.from_stage, r.to_stage, labels), segment_name(r.segment, labels),
                 percent(r.rate), percent(r.target_rate),
                 money(r.recoverable_per_year, cur) if r.recoverable_per_year is not None else "not judged"]
                for r in rows],
               empty="No transition loses people in this selection.", notes=_friction_notes(p))
    deck.picture(f"{len(p.recommendations.items)} recommendations by impact and effort: quick wins top left",
                 p.images[MATRIX_IMAGE], "Impact: recoverable revenue at stake; effort: hours (the catalogue's "
                 "range). " + p.recommendations.reconciliation()["text"],
                 caption=matrix_legend(p), caption_pt=LEGEND_PT, muted=False)
    spec = p.recommendations.quick_win_spec()
    deck.table(hl.quick_wins_headline(p.recommendations, cur, fr.per),
               [Column("Quick win", 4.6), Column("System", 1.6), Column("Hours", 1.2, True),
                Column("Moves", 3.3), Column(f"Worth / {fr.per}", 1.63, True)],
               [[humanize(r.title, labels), r.system, f"{r.hours_low:g}-{r.hours_high:g}",
                 f"{humanize(r.metric.label, labels)}: {fmt(r.metric.current, r.metric.unit)} → "
                 + (fmt(r.metric.target, r.metric.unit) if r.metric.target is not None else "target not set"),
                 hl.action_value(r, cur, fr.per)] for r in spec],
               empty="No quick win qualifies (every recommendation takes 5 hours or more).",
               notes="\n".join(f"{r.title}: {r.acceptance}" for r in spec))
    summary = p.profiles.summary()[:MAX_ROWS]
    notes = ("End to end: the share of the persona's leads that reached the last stage so far. "
             "The persona profiles document describes each persona's journey.")
    if 0 < len(p.profiles.profiles) <= MAX_CARDS:
        deck.persona_cards(hl.personas_headline(summary, labels), notes)
    else:
        deck.table(hl.personas_headline(summary, labels),
                   [Column("Persona", 3.6), Column("People", 1.8, True), Column("Share", 1.6, True),
                    Column("Top source", 2.8), Column("End to end", 2.63, True)],
                   [[display_name(s["persona"], labels), count(s["people"]), percent(s["share"]),
                     display_name(s["top_source"], labels), percent(s["end_to_end"])] for s in summary],
                   empty="No personas in this selection.", notes=notes)
    terms = p.definitions.terms
    signed = sum(t.signed_off for t in terms)
    deck.table(hl.definitions_headline(signed, len(terms)),  # a row per role: every term, and who is to sign
               [Column("Role", 2.4), Column("Signed off", 2.0, True), Column("Still to sign", 8.03)],
               sign_off_rows(terms),
               empty="No stage definitions written yet.", notes=p.definitions.status_line())
    steps = next_steps(p)
    deck.bullets(f"{len(steps)} steps to a signed-off journey", steps)
    deck.picture("Appendix: the full journey map", p.images[BOARD_MAP],
                 "Touchpoints per lane (top 3), persona lanes, the dark-lead path and the drop-offs.",
                 caption=("The whole map at a glance: lanes, touchpoints, persona lanes, the dark-lead path and "
                          "every drop-off.",
                          "Too dense to read on a slide: print journey_map.png from the report's folder, or "
                          "open journey_map.html (written by leadjourney map: zoom, pan and each card's details).",
                          "The journey slide shows the stages, conversions and biggest drop-offs at a readable "
                          "size."))
    return deck.save()


def sign_off_rows(terms: Sequence[TermStatus]) -> list[list[str]]:
    """The definitions slide's table: per role, how many terms it signed and the terms it has still to sign (a
    row per term showed 5 of 9 terms, each "no · Marketing, Sales, RevOps")."""
    if not terms:
        return []
    return [[role, f"{sum(role not in t.missing for t in terms)} of {len(terms)}",
             ", ".join(t.definition.term for t in terms if role in t.missing) or "none: all signed"]
            for role in REQUIRED_ROLES]


def next_steps(p: ReportPackage) -> list[str]:
    counts = Counter(f.status for f in p.findings)
    steps = []
    if counts.get(ASSUMED):
        steps.append(f"Confirm or correct the {counts[ASSUMED]} findings still ASSUMED (interviews, data review).")
    if not p.definitions.signed_off:
        steps.append("Sign off the lead stage definitions: " + p.definitions.status_line())
    spec = p.recommendations.quick_win_spec()
    if spec:
        steps.append(f"Implement the top {len(spec)} quick wins: " + "; ".join(r.title for r in spec) + ".")
    roles = {a.role for a in p.answers}
    missing = [r.title for r in ROLES if r.key not in roles]  # "RevOps", not the --role key "revops"
    if missing:
        steps.append("Record interview answers for: " + ", ".join(missing) + " (see the interview guide).")
    if p.baseline is None:
        steps.append("Store today's figures as the baseline at sign-off; the maintenance playbook's thresholds "
                     "follow it.")  # the command (analyze --baseline) is the analyst's
    steps.append("Run the monthly and quarterly checks of the maintenance playbook.")
    return steps


def picture_fit(px_w: int, px_h: int, footnotes: Sequence[str] = ()) -> tuple[float, Emu]:
    """A picture of ``px_w`` x ``px_h`` pixels on a slide: the EMU each pixel takes (as large as the room below
    the title and above the ``footnotes`` allows) and the footnotes' height (an estimate of their wrapped
    lines)."""
    per_line = int(INNER / Pt(1) / (FOOTNOTE_PT * 0.55))  # characters a footnote's line holds
    foot_h = Emu(sum(Pt(FOOTNOTE_PT * 1.25) * -(-len(f) // per_line) + Pt(4) for f in footnotes))
    return min(INNER / px_w, (BOTTOM - TOP - foot_h) / px_h), foot_h


def matrix_legend(p: ReportPackage) -> list[str]:
    """The matrix's bubbles by rank, as slide text beside the picture (its numbers key to these lines), while
    an estimate of the wrapped lines fits the picture's height; the rest counted."""
    items = p.recommendations.items
    out, lines = ["Ranked by revenue per hour"], 1
    per_line = int((INNER / Pt(1) - 480) / (LEGEND_PT * 0.55))  # characters a line holds beside the picture
    for k, r in enumerate(items):
        text = f"{r.rank}  {humanize(r.title, p.labels)}" + ("" if r.revenue else " (no revenue attached)")
        need = -(-len(text) // max(per_line, 20))
        if lines + need > LEGEND_LINES - (k < len(items) - 1):
            out.append(f"... and {len(items) - k} more in the recommendations document")
            break
        out.append(text)
        lines += need
    if not items:
        out.append("No recommendation: no rule fired.")
    return out


def _map_headline(p: ReportPackage) -> str:
    """How many drop-off points the map flags in red: whole transitions and segments."""
    whole = sum(d.segment is None for d in p.journey_map.drop_offs)
    segments = len(p.journey_map.drop_offs) - whole
    if not whole and not segments:
        return "The journey: no transition or segment drops significantly"
    if not whole:
        return (f"The journey: {segments} segment{'s' if segments > 1 else ''} drop significantly below their "
                f"peers; no whole transition does")
    parts = [f"{whole} transition{'s' if whole > 1 else ''}"] + ([f"{segments} segments"] if segments else [])
    return f"The journey: significant drop-offs at {' and '.join(parts)}"


def _funnel_notes(p: ReportPackage) -> str:
    lines = ["Conversion at each step with its 95% interval (stage reach: a person counts at every stage they "
             "reached, also when the CRM skipped one)."]
    for t in p.analysis.funnel.transitions:
        state = t.status.text()
        lines.append(f"{t.from_stage} → {t.to_stage}: {percent(t.rate)} of {count(t.entered)}"
                     + (f" ({state})" if state else ""))
    return "\n".join(lines)


def losing_rows(fr: Friction) -> list[FrictionRow]:
    """The friction table's rows on a slide: the first that lose money (a row at its target recovers $0, which
    a table headed "loses" should not list; nor a row too small to judge, ranked last: "43 ... not judged"
    filled the fifth line); the notes count both."""
    return [r for r in fr.rows if r.recoverable_per_year][:MAX_ROWS]


def _friction_notes(p: ReportPackage) -> str:
    fr, cur = p.analysis.friction, p.currency
    lines = [f"Current bookings {money(fr.bookings_per_year, cur)} / {fr.per}. Recoverable = the gap to the "
             f"target rate x people entering x their later win probability x deal size; the value of all drop-offs "
             f"({money(fr.total_value_of_all_dropoffs(), cur)} / {fr.per}) is an upper bound, not a forecast."]
    if fr.deal_size_warning:
        lines.append(f"Warning: {fr.deal_size_warning}.")
    at_target = sum(r.recoverable_per_year == 0 for r in fr.rows)
    if at_target:
        lines.append(f"Left out: {at_target} rows already at or above their target (nothing to recover).")
    unjudged = sum(r.recoverable_per_year is None for r in fr.rows)
    if unjudged:
        lines.append(f"Left out: {unjudged} rows with too few people to judge (in the friction ranking's appendix).")
    for r in losing_rows(fr):
        state = r.status.text()
        lines.append(f"#{r.rank} target {r.target_source}" + (f"; {state}" if state else ""))
    return "\n".join(lines)


class _Deck:
    """Slides in the workspace's colour, numbered, each with a footer and speaker notes."""

    def __init__(self, p: ReportPackage) -> None:
        self.p = p
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.color = RGBColor.from_string(p.brand_color.lstrip("#"))

    def save(self) -> bytes:
        total = len(self.prs.slides)
        for number, slide in enumerate(self.prs.slides, start=1):
            if number > 1:
                self._text(slide, f"{self.p.name}", MARGIN, Emu(HEIGHT - Inches(0.45)), Inches(8), FOOTER_PT, MUTED)
                self._text(slide, f"{number} / {total}", Emu(WIDTH - MARGIN - Inches(2)), Emu(HEIGHT - Inches(0.45)),
                           Inches(2), FOOTER_PT, MUTED, align=PP_ALIGN.RIGHT)
        out = io.BytesIO()
        self.prs.save(out)
        return out.getvalue()

    def title_slide(self) -> None:
        p, a = self.p, self.p.analysis
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[6])
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDTH, Inches(0.35))
        self._fill(band, self.color)
        self._text(slide, p.name, MARGIN, Inches(2.2), INNER, 40, INK, bold=True)
        self._text(slide, "The inbound lead journey: findings and recommendations", MARGIN, Inches(3.3), INNER,
                   24, MUTED)
        as_of = a.time_in_stage.as_of
        self._text(slide, f"{count(a.n_people)} people" + (f" · data as of {as_of:%d %B %Y}" if as_of else ""),
                   MARGIN, Inches(4.1), INNER, 18, MUTED)
        self._text(slide, hl.findings_line(p) + ".", MARGIN, Inches(4.7), INNER, 16, MUTED)
        self._notes(slide, "Every number in this deck comes from one analysis of the workspace; a finding stays "
                           "ASSUMED until stakeholders confirm it.")

    def summary(self) -> None:
        p = self.p
        fr = p.analysis.friction
        slide = self._slide(hl.summary_headline(p))
        tiles = hl.summary_tiles(p)
        w = Emu((INNER - 2 * Inches(0.3)) // 3)
        for i, tile in enumerate(tiles):
            left = Emu(MARGIN + i * (w + Inches(0.3)))
            box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, TOP, w, Inches(2.1))
            self._fill(box, BAND)
            self._text(slide, tile.label, Emu(left + Inches(0.2)), Emu(TOP + Inches(0.15)), Emu(w - Inches(0.4)),
                       14, MUTED)
            self._text(slide, tile.value, Emu(left + Inches(0.2)), Emu(TOP + Inches(0.5)), Emu(w - Inches(0.4)),
                       36, self.color, bold=True)
            self._text(slide, tile.detail, Emu(left + Inches(0.2)), Emu(TOP + Inches(1.35)), Emu(w - Inches(0.4)),
                       12, MUTED)
        actions = hl.top_action_groups(p.recommendations, 3, p.labels)
        top = Emu(TOP + Inches(2.5))
        self._text(slide, "Three actions" if len(actions) == 3 else "Actions", MARGIN, top, INNER, 18, INK,
                   bold=True)
        lines = [f"{i}. {a.line(p.currency, fr.per)}" for i, a in enumerate(actions, start=1)] or [
            "No recommendation fired for this selection."]
        self._paragraphs(slide, lines, MARGIN, Emu(top + Inches(0.5)), INNER, Emu(BOTTOM - top - Inches(0.5)),
                         size=18, space=8)
        self._notes(slide, "\n".join([f"{t.label}: {t.value} ({t.detail})" for t in tiles]
                                     + [p.recommendations.reconciliation()["text"], hl.findings_line(p) + "."]))

    def picture(self, title: str, png: bytes, notes: str, caption: Sequence[str] = (), caption_pt: int = CAPTION_PT,
                muted: bool = True, footnotes: Sequence[str] = ()) -> None:
        """The image as large as the slide allows below the title, aspect kept: centred, or at the left with the
        ``caption`` paragraphs beside it when the picture leaves room on the right (a tall map on a wide slide);
        ``footnotes`` as slide text under it (text inside a picture shrinks with it)."""
        slide = self._slide(title)
        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        scale, foot_h = picture_fit(w, h, footnotes)
        box_w, box_h = INNER, Emu(BOTTOM - TOP - foot_h)
        if footnotes:
            self._paragraphs(slide, footnotes, MARGIN, Emu(box_h + TOP), INNER, foot_h, size=FOOTNOTE_PT, space=4,
                             color=MUTED)
        pw, ph = int(w * scale), int(h * scale)
        room = box_w - pw - Inches(0.4)
        left = MARGIN if caption and room >= CAPTION_MIN else (WIDTH - pw) // 2
        slide.shapes.add_picture(io.BytesIO(png), Emu(left), Emu(TOP + (box_h - ph) // 2), Emu(pw), Emu(ph))
        if caption and room >= CAPTION_MIN:
            self._paragraphs(slide, caption, Emu(MARGIN + pw + Inches(0.4)), TOP, Emu(room), Emu(box_h),
                             size=caption_pt, space=10 if muted else 4, muted_after_first=muted,
                             bold_first=not muted)
        self._notes(slide, notes)

    @staticmethod
    def _paragraphs(slide: Slide, lines: Sequence[str], left: Length, top: Length, width: Length, height: Length, *,
                    size: int, space: int, muted_after_first: bool = False, bold_first: bool = False,
                    color: RGBColor = INK, align: PP_ALIGN = PP_ALIGN.LEFT, first_size: int | None = None) -> None:
        """A wrapping text box of one paragraph per line (the lines after the first grey, the first bold or at
        ``first_size`` and bold, when asked)."""
        box = slide.shapes.add_textbox(left, top, width, height)
        box.text_frame.word_wrap = True
        for i, line in enumerate(lines):
            para = box.text_frame.paragraphs[0] if i == 0 else box.text_frame.add_paragraph()
            para.text = line
            para.space_after = Pt(space)
            para.alignment = align
            for run in para.runs:
                run.font.size = Pt(first_size if first_size and not i else size)
                run.font.color.rgb = MUTED if muted_after_first and i else color
                run.font.bold = (bold_first or bool(first_size)) and not i

    def table(self, title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, empty: str,
              notes: str) -> None:
        slide = self._slide(title)
        self._notes(slide, notes)
        if not rows:
            self._text(slide, empty, MARGIN, TOP, INNER, BODY_PT, INK)
            return
        height = Emu(Inches(0.5) * (len(rows) + 1))
        table = slide.shapes.add_table(len(rows) + 1, len(columns), MARGIN, TOP, INNER, height).table
        for i, col in enumerate(columns):
            table.columns[i].width = Inches(col.width)
        for r, values in enumerate([[c.header for c in columns], *[list(v) for v in rows]]):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.text = value
                if r == 0:
                    cell.fill.solid()
                    cell.fill.fore_color.rgb = self.color
                elif r % 2 == 0:
                    cell.fill.solid()
                    cell.fill.fore_color.rgb = BAND
                else:
                    cell.fill.background()
                for para in cell.text_frame.paragraphs:
                    para.alignment = PP_ALIGN.RIGHT if columns[c].numeric else PP_ALIGN.LEFT
                    for run in para.runs:
                        run.font.size = Pt(TABLE_PT)
                        run.font.bold = r == 0
                        run.font.color.rgb = WHITE if r == 0 else INK

    def persona_cards(self, title: str, notes: str) -> None:
        """One card per persona side by side: who, how they arrive, where they stall, what to change."""
        from leadjourney.reports.personas_doc import slide_card

        p = self.p
        slide = self._slide(title)
        cards = [slide_card(pp, p.labels, p.recommendations.items) for pp in p.profiles.profiles]
        gap = Inches(0.25)
        w = Emu((INNER - gap * (len(cards) - 1)) // len(cards))
        for i, (name, lines) in enumerate(cards):
            left = Emu(MARGIN + i * (w + gap))
            box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, TOP, w, Emu(BOTTOM - TOP))
            self._fill(box, BAND)
            self._text(slide, name, Emu(left + Inches(0.2)), Emu(TOP + Inches(0.15)), Emu(w - Inches(0.4)), 20,
                       self.color, bold=True)
            frame = slide.shapes.add_textbox(Emu(left + Inches(0.2)), Emu(TOP + Inches(0.75)), Emu(w - Inches(0.4)),
                                             Emu(BOTTOM - TOP - Inches(0.9))).text_frame
            frame.word_wrap = True
            for k, (question, answer) in enumerate(lines):
                para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
                para.space_after = Pt(8)
                head, body = para.add_run(), para.add_run()
                head.text, body.text = f"{question}: ", answer
                for run in (head, body):
                    run.font.size, run.font.color.rgb = Pt(CARD_PT), INK
                head.font.bold = True
        self._notes(slide, notes)

    def bullets(self, title: str, lines: Sequence[str]) -> None:
        slide = self._slide(title)
        box = slide.shapes.add_textbox(MARGIN, TOP, INNER, Emu(BOTTOM - TOP))
        tf = box.text_frame
        tf.word_wrap = True
        for i, line in enumerate(lines):
            para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            para.text = f"{i + 1}. {line}"
            para.space_after = Pt(10)
            for run in para.runs:
                run.font.size, run.font.color.rgb = Pt(BODY_PT), INK
        self._notes(slide, "From the findings' statuses, the definitions' sign-offs, the quick wins, the "
                           "interview answers recorded and the stored baseline.")

    def _slide(self, title: str) -> Slide:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])
        band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDTH, Inches(0.12))
        self._fill(band, self.color)
        shape = slide.shapes.title
        assert shape is not None
        shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), INNER, Inches(1.0)
        shape.text = title
        shape.text_frame.word_wrap = True
        for para in shape.text_frame.paragraphs:
            para.alignment = PP_ALIGN.LEFT
            for run in para.runs:
                run.font.size, run.font.bold, run.font.color.rgb = Pt(TITLE_PT), True, INK
        return slide

    @staticmethod
    def _fill(shape: object, color: RGBColor) -> None:
        shape.fill.solid()  # type: ignore[attr-defined]
        shape.fill.fore_color.rgb = color  # type: ignore[attr-defined]
        shape.line.fill.background()  # type: ignore[attr-defined]

    @staticmethod
    def _text(slide: Slide, text: str, left: Length, top: Length, width: Length, size: int, color: RGBColor, *,
              bold: bool = False, align: PP_ALIGN = PP_ALIGN.LEFT) -> None:
        box = slide.shapes.add_textbox(left, top, width, Pt(size * 1.6))
        box.text_frame.word_wrap = True
        para = box.text_frame.paragraphs[0]
        para.text = text
        para.alignment = align
        for run in para.runs:
            run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, color

    @staticmethod
    def _notes(slide: Slide, text: str) -> None:
        slide.notes_slide.notes_text_frame.text = text  # type: ignore[union-attr]
