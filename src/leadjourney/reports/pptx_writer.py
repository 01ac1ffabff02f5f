"""The board deck (python-pptx): the key charts and findings of a report package, one idea per slide.

16:9 slides; titles at 32 pt, tables at 14 pt or more and at most six rows, so every slide
reads from the back of a board room. Numbers come from the package's results, formatted here.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from leadjourney.analysis.findings import ASSUMED
from leadjourney.journeymap.text import money
from leadjourney.reports.evidence import fmt
from leadjourney.reports.friction_doc import FUNNEL_IMAGE
from leadjourney.reports.maintenance import pct

if TYPE_CHECKING:
    from leadjourney.reports.package import ReportPackage

TITLE_PT, BODY_PT, TABLE_PT = 32, 20, 14
MAX_ROWS = 6
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN, TOP = Inches(0.45), Inches(1.35)
INNER = Emu(WIDTH - 2 * MARGIN)  # the content width
HEADER_FILL, INK = RGBColor(0x1A, 0x73, 0xE8), RGBColor(0x20, 0x21, 0x24)
TITLES = ("Journey map", "Funnel with 95% intervals", "Top friction points", "Impact / effort matrix",
          "Quick wins", "Buyer personas", "Lead stage definitions", "Next steps")


def to_pptx(p: ReportPackage) -> bytes:
    """The deck as .pptx bytes."""
    from leadjourney.reports.document import BOARD_MAP, MATRIX_IMAGE

    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    a = p.analysis
    _title_slide(prs, p)
    _picture(_slide(prs, TITLES[0]), p.images[BOARD_MAP])
    _picture(_slide(prs, TITLES[1]), p.images[FUNNEL_IMAGE])
    rows = a.friction.rows[:MAX_ROWS - 1]
    fr = a.friction
    bookings = money(fr.bookings_per_year, p.currency) if fr.bookings_per_year is not None else "-"
    note = (f"Current bookings {bookings} / {fr.per}; recoverable at the transitions "
            f"{money(fr.total_recoverable(), p.currency)} / {fr.per} (gap to the named target; the value of all "
            f"drop-offs, {money(fr.total_value_of_all_dropoffs(), p.currency)}, is an upper bound)."
            + (f" Warning: {fr.deal_size_warning}." if fr.deal_size_warning else ""))
    _table(_slide(prs, TITLES[2]), ["#", "Transition", "Segment", "Drop-off", f"Recoverable / {fr.per}",
                                    "Target"],
           [[str(r.rank), f"{r.from_stage} → {r.to_stage}", r.segment or "all", pct(r.drop_off_rate),
             money(r.recoverable_per_year, p.currency) if r.recoverable_per_year is not None
             else _short(r.status.text(), 30), _short(r.target_source, 60)] for r in rows],
           [0.6, 2.5, 2.9, 1.3, 1.7, 3.4], empty="No transition loses people in this selection.", note=note)
    _picture(_slide(prs, TITLES[3]), p.images[MATRIX_IMAGE])
    spec = p.recommendations.quick_win_spec()
    _table(_slide(prs, TITLES[4]), ["Quick win", "System", "Hours", "Moves", "Status"],
           [[_short(r.title, 55), _short(r.system, 24), f"{r.hours_low:g}-{r.hours_high:g}",
             f"{_short(r.metric.label, 30)}: {fmt(r.metric.current, r.metric.unit)} → "
             + (fmt(r.metric.target, r.metric.unit) if r.metric.target is not None else "target not set"),
             r.status] for r in spec],
           [4.2, 2.0, 1.0, 3.6, 1.6], empty="No quick win qualifies (every recommendation takes 5 hours or more).")
    summary = p.profiles.summary()[:MAX_ROWS - 1]
    _table(_slide(prs, TITLES[5]), ["Persona", "People", "Share", "Top source", "End to end", "Differences"],
           [[s["persona"], f"{s['people']:,}", pct(s["share"]), s["top_source"] or "-", pct(s["end_to_end"]),
             str(s["differences"])] for s in summary],
           [3.2, 1.5, 1.3, 2.4, 1.8, 2.0], empty="No personas in this selection.")
    terms = p.definitions.terms[:MAX_ROWS - 1]
    _table(_slide(prs, TITLES[6]), ["Term", "Signed off", "Waiting for"],
           [[t.definition.term, "yes" if t.signed_off else "no", ", ".join(t.missing) or "-"] for t in terms],
           [4.0, 2.0, 6.4], empty="No [[definitions]] in leadjourney.toml yet.",
           note=p.definitions.status_line())
    _bullets(_slide(prs, TITLES[7]), next_steps(p))
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def next_steps(p: ReportPackage) -> list[str]:
    counts = Counter(f.status for f in p.findings)
    steps = []
    if counts.get(ASSUMED):
        steps.append(f"Confirm or correct the {counts[ASSUMED]} findings still ASSUMED (interviews, data review).")
    if not p.definitions.signed_off:
        steps.append("Sign off the lead stage definitions: " + p.definitions.status_line())
    spec = p.recommendations.quick_win_spec()
    if spec:
        steps.append(f"Implement the top {len(spec)} quick wins: " + "; ".join(_short(r.title, 40) for r in spec) + ".")
    roles = {a.role for a in p.answers}
    missing = [r for r in ("marketing", "sales", "revops") if r not in roles]
    if missing:
        steps.append("Record interview answers for: " + ", ".join(missing) + " (see the interview guide).")
    if p.baseline is None:
        steps.append("Store the baseline at sign-off (leadjourney analyze --baseline); the maintenance thresholds "
                     "follow it.")
    steps.append("Run the monthly and quarterly checks of the maintenance playbook.")
    return steps


def _title_slide(prs: object, p: ReportPackage) -> None:
    slide: Slide = prs.slides.add_slide(prs.slide_layouts[0])  # type: ignore[attr-defined]
    a = p.analysis
    as_of = a.time_in_stage.as_of
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    assert title is not None
    for shape, top, height in ((title, Inches(2.0), Inches(1.5)), (subtitle, Inches(3.7), Inches(1.8))):
        shape.left, shape.top, shape.width, shape.height = MARGIN, top, INNER, height
    title.text = p.name
    subtitle.text = (f"The inbound lead journey: findings and recommendations from {a.n_people:,} people"
                     + (f", data as of {as_of:%Y-%m-%d}" if as_of else "")
                     + ". Every number is ASSUMED until stakeholders confirm it.")


def _slide(prs: object, title: str) -> Slide:
    slide: Slide = prs.slides.add_slide(prs.slide_layouts[5])  # type: ignore[attr-defined]
    shape = slide.shapes.title
    assert shape is not None
    shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), INNER, Inches(0.9)
    shape.text = title
    for para in shape.text_frame.paragraphs:
        for run in para.runs:
            run.font.size, run.font.bold, run.font.color.rgb = Pt(TITLE_PT), True, INK
    return slide


def _picture(slide: Slide, png: bytes) -> None:
    """The image as large as the slide allows below the title, centered, aspect kept."""
    with Image.open(io.BytesIO(png)) as im:
        w, h = im.size
    box_w, box_h = WIDTH - 2 * MARGIN, HEIGHT - TOP - Inches(0.3)
    scale = min(box_w / w, box_h / h)
    pw, ph = int(w * scale), int(h * scale)
    slide.shapes.add_picture(io.BytesIO(png), Emu((WIDTH - pw) // 2), Emu(TOP + (box_h - ph) // 2), Emu(pw), Emu(ph))


def _table(slide: Slide, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], *,
           empty: str, note: str | None = None) -> None:
    if not rows:
        _bullets(slide, [empty] + ([note] if note else []))
        return
    height = Emu(Inches(0.55) * (len(rows) + 1))
    frame = slide.shapes.add_table(len(rows) + 1, len(header), MARGIN, TOP, INNER, height)
    table = frame.table
    for i, w in enumerate(widths):
        table.columns[i].width = Inches(w)
    for r, values in enumerate([list(header), *[list(v) for v in rows]]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = value
            for para in cell.text_frame.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(TABLE_PT)
                    run.font.bold = r == 0
    if note:
        box = slide.shapes.add_textbox(MARGIN, Emu(TOP + height + Inches(0.3)), INNER, Inches(1.0))
        box.text_frame.word_wrap = True
        box.text_frame.text = note
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(16)


def _bullets(slide: Slide, lines: Sequence[str]) -> None:
    box = slide.shapes.add_textbox(MARGIN, TOP, INNER, Emu(HEIGHT - TOP - Inches(0.4)))
    tf = box.text_frame
    tf.word_wrap = True
    for i, line in enumerate(lines):
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        para.text = f"• {line}"
        para.space_after = Pt(10)
        for run in para.runs:
            run.font.size = Pt(BODY_PT)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
