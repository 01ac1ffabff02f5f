"""Markdown documents as Word files (python-docx): headings, lists, tables, embedded PNG charts.

The same Markdown the .md and .html carry is parsed once (markdown-it) and walked block by
block, so the three formats never disagree. The look comes from :mod:`docx_style` (one font,
headings and table headers in the engagement's colour, "page N of M" in the footer); table
geometry from :mod:`docx_layout` (columns as wide as their longest word, 9 pt table text, header
rows repeated on every page). Orientation is chosen per chapter (a level-1 or level-2 heading and
what follows it): a chapter whose table or picture reads better on a landscape page gets one, the
rest stay portrait. A picture named in ``legible`` is set at that many points per pixel at least,
cut into page-sized tiles along its quiet lines when it is bigger than a page (the journey map).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from markdown_it.token import Token
from PIL import Image

from leadjourney.escape import xml_text
from leadjourney.reports import docx_layout as geometry
from leadjourney.reports.docx_style import (
    TABLE_PT,
    add_footer,
    apply_template,
    fix_grid,
    hex_color,
    keep_together,
    repeat_header,
    set_orientation,
    shade,
    usable,
)
from leadjourney.reports.html_writer import is_local, parser
from leadjourney.reports.image_tiles import tiles

MONO = "Consolas"
BAND_FILL = "F6F8FA"
EMU_PER_PT = 12700
CAPTION_ROOM = int(Pt(64))  # beside a picture: a heading or its caption line


@dataclass
class _Cell:
    inline: Token
    align: str | None

    @property
    def text(self) -> str:
        return plain(self.inline)


@dataclass
class _Row:
    cells: list[_Cell] = field(default_factory=list)
    header: bool = False


def plain(tok: Token) -> str:
    """The text an inline token shows (emphasis and code marks dropped)."""
    return "".join(c.content if c.type in ("text", "code_inline") else " " if c.type == "softbreak" else ""
                   for c in tok.children or [])


_RANGE_HYPHEN = re.compile(r"(?<=\d)-(?=\d)")


def keep_ranges_whole(run: Run) -> None:
    """The hyphens of a range ("15-21%", "2026-06-10") as Word's non-breaking hyphen: a narrow column broke
    "15-" / "21%" across lines. Read back (``run.text``, the PDF) as the same "-"."""
    parts = _RANGE_HYPHEN.split(run.text)
    if len(parts) == 1:
        return
    run.text = ""
    for i, part in enumerate(parts):
        if i:
            run._r.append(OxmlElement("w:noBreakHyphen"))
        if part:
            t = OxmlElement("w:t")
            t.text = part
            t.set(qn("xml:space"), "preserve")
            run._r.append(t)


def to_docx(title: str, markdown: str, images: Mapping[str, bytes], *, engagement: str = "",
            brand_color: str = "#1A73E8", legible: Mapping[str, float] | None = None) -> bytes:
    """A .docx of ``markdown`` with ``images`` (file name -> PNG bytes) embedded (control characters from data,
    which XML cannot hold, dropped); ``engagement`` names the footer, ``brand_color`` the headings and table
    headers; ``legible``: picture name -> the points per pixel it needs to be read."""
    tokens = parser().parse(xml_text(markdown))
    doc = Document()
    doc.core_properties.title = xml_text(title)
    doc.core_properties.author = "leadjourney"
    apply_template(doc, brand_color)
    walker = _Walker(doc, images, brand_color, legible or {})
    chapters = walker.chapters(tokens)
    set_orientation(doc.sections[0], chapters.get(0, False))
    walker.landscape = chapters.get(0, False)
    add_footer(doc.sections[0], xml_text(engagement), xml_text(title))
    walker.walk(tokens, chapters)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _rows(tokens: Sequence[Token], i: int) -> tuple[list[_Row], int]:
    """The rows of the table opening at ``i``, and the index after its close."""
    rows: list[_Row] = []
    header = False
    while tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type == "thead_open":
            header = True
        elif tok.type == "thead_close":
            header = False
        elif tok.type == "tr_open":
            rows.append(_Row(header=header))
        elif tok.type in ("th_open", "td_open"):
            style = str(tok.attrs.get("style", ""))
            align = style.split(":", 1)[1] if style.startswith("text-align:") else None
            rows[-1].cells.append(_Cell(tokens[i + 1], align))
        i += 1
    return rows, i + 1


def _texts(rows: list[_Row]) -> tuple[list[list[str]], int]:
    n = max((len(r.cells) for r in rows), default=0)
    return ([[c.text for c in r.cells] + [""] * (n - len(r.cells)) for r in rows],
            sum(1 for r in rows if r.header))


def _pt(emu: int) -> float:
    return emu / EMU_PER_PT


class _Walker:
    def __init__(self, doc: DocxDocument, images: Mapping[str, bytes], brand: str,
                 legible: Mapping[str, float]) -> None:
        self.doc = doc
        self.images = images
        self.brand = str(hex_color(brand))
        self.legible = legible
        self.landscape = False
        self.written = 0  # blocks in the current section: a section with none yet turns in place
        self.lists: list[str] = []
        self.quote = 0

    @property
    def width(self) -> int:
        return usable(self.landscape)[0]

    @property
    def height(self) -> int:
        return usable(self.landscape)[1]

    def chapters(self, tokens: Sequence[Token]) -> dict[int, bool]:
        """Token index of each chapter start (0, and every level-1/2 heading) -> does it want landscape."""
        wants: dict[int, bool] = {0: False}
        chapter = 0
        portrait, landscape = _pt(usable(False)[0]), _pt(usable(True)[0])
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "heading_open" and tok.tag in ("h1", "h2") and i > 0:
                chapter = i
                wants[chapter] = False
            elif tok.type == "table_open":
                rows, end = _rows(tokens, i)
                texts, head = _texts(rows)
                if texts and geometry.wants_landscape(texts, portrait, landscape, TABLE_PT, head):
                    wants[chapter] = True
                i = end
                continue
            elif tok.type == "inline" and any(c.type == "image" and str(c.attrs.get("src", "")) in self.legible
                                              for c in tok.children or []):
                wants[chapter] = True
            i += 1
        return wants

    def turn(self, landscape: bool) -> None:
        """Continue on pages of that orientation: a new section, or this one turned while still empty."""
        if landscape == self.landscape:
            return
        if self.written:
            self.doc.add_section(WD_SECTION.NEW_PAGE)
        set_orientation(self.doc.sections[-1], landscape)
        self.landscape, self.written = landscape, 0

    def walk(self, tokens: Sequence[Token], chapters: Mapping[int, bool]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if i in chapters:
                self.turn(chapters[i])
            if kind == "heading_open":
                p = self.doc.add_heading(level=min(int(tok.tag[1]), 4))
                self.inline(p, tokens[i + 1])
                i += 3
                continue
            if kind == "paragraph_open":
                p = self.doc.add_paragraph(style=self.paragraph_style())
                self.inline(p, tokens[i + 1])
                self.written += 1
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append("Bullet" if kind == "bullet_list_open" else "Number")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "blockquote_open":
                self.quote += 1
            elif kind == "blockquote_close":
                self.quote -= 1
            elif kind == "table_open":
                rows, i = _rows(tokens, i)
                self.build_table(rows)
                self.written += 1
                continue
            elif kind in ("fence", "code_block"):
                p = self.doc.add_paragraph()
                run = p.add_run(tok.content.rstrip("\n"))
                run.font.name = MONO
                run.font.size = Pt(9)
                self.written += 1
            i += 1

    def paragraph_style(self) -> str | None:
        if self.lists:
            depth = len(self.lists)
            return f"List {self.lists[-1]}" + (f" {min(depth, 3)}" if depth > 1 else "")
        return "Quote" if self.quote else None

    def inline(self, p: Paragraph, tok: Token, size: float | None = None) -> None:
        bold = italic = False
        for child in tok.children or []:
            kind = child.type
            if kind == "strong_open":
                bold = True
            elif kind == "strong_close":
                bold = False
            elif kind == "em_open":
                italic = True
            elif kind == "em_close":
                italic = False
            elif kind in ("text", "code_inline"):
                run = p.add_run(child.content)
                if kind == "text":
                    keep_ranges_whole(run)
                run.bold, run.italic = bold or None, italic or None
                if kind == "code_inline":
                    run.font.name = MONO
                    run.font.color.rgb = RGBColor(0x3C, 0x40, 0x43)
                if size:
                    run.font.size = Pt(size)
            elif kind in ("softbreak", "hardbreak"):
                p.add_run(" " if kind == "softbreak" else "\n")
            elif kind == "image":
                self.picture(p, str(child.attrs.get("src", "")), child.content)
            elif kind == "link_open" and not is_local(str(child.attrs.get("href", ""))):
                continue

    def picture(self, p: Paragraph, src: str, alt: str) -> None:
        content = self.images.get(src)
        if content is None:
            p.add_run(alt)
            return
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        need = self.legible.get(src)
        height = self.height - CAPTION_ROOM
        if need is None:
            with Image.open(io.BytesIO(content)) as im:
                px_w, px_h = im.size
            # at least 150 dpi on paper, within the page's width and height
            p.add_run().add_picture(io.BytesIO(content), width=min(self.width, int(Pt(px_w * 72 / 150)),
                                                                   int(height * px_w / px_h)))
            return
        # legible: each tile fills the page's width at >= need points per pixel
        parts = tiles(content, int(_pt(self.width) / need), int(_pt(height) / need))
        for k, part in enumerate(parts):
            with Image.open(io.BytesIO(part)) as im:
                px_w, px_h = im.size
            width = min(self.width, int(height * px_w / px_h))  # >= need points per pixel by the tiles' size
            if k:
                p = self.doc.add_paragraph()
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                p.paragraph_format.page_break_before = True
            p.add_run().add_picture(io.BytesIO(part), width=width)

    def build_table(self, rows: list[_Row]) -> None:
        texts, head = _texts(rows)
        if not texts or not texts[0]:
            return
        n_cols = len(texts[0])
        widths = geometry.column_widths(texts, _pt(self.width), TABLE_PT, head)
        before = self.doc.element.body[-2] if len(self.doc.element.body) > 1 else None  # the last before sectPr
        if before is not None and before.tag == qn("w:p"):  # the table's lead-in stays on its page, not orphaned
            Paragraph(before, self.doc._body).paragraph_format.keep_with_next = True
        table: Table = self.doc.add_table(rows=len(rows), cols=n_cols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        fix_grid(table, [round(w * 20) for w in widths])
        for r, row in enumerate(rows):
            doc_row = table.rows[r]
            if row.header:
                repeat_header(doc_row)
            else:
                keep_together(doc_row)
            targets = doc_row.cells  # table.cell(r, c) re-reads the whole grid on every call
            for c, cell in enumerate(row.cells):
                target = targets[c]
                target.width = Emu(int(widths[c] * EMU_PER_PT))
                p = target.paragraphs[0]
                p.paragraph_format.space_after = Pt(0)
                self.inline(p, cell.inline, TABLE_PT)
                if row.header:
                    for run in p.runs:
                        run.bold = True
                        run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                    shade(target, self.brand)
                elif r % 2 == 0:
                    shade(target, BAND_FILL)
                if cell.align == "right":
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif cell.align == "center":
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.doc.add_paragraph()
