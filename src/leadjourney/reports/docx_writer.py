"""Markdown documents as Word files (python-docx): headings, lists, tables, embedded PNG charts.

The same Markdown the .md and .html carry is parsed once (markdown-it) and walked block by
block, so the three formats never disagree. A document with a wide table (7+ columns) is
laid out in landscape.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Inches, Pt, RGBColor
from docx.table import Table
from docx.table import _Cell as DocxCell
from docx.table import _Row as DocxRow
from docx.text.paragraph import Paragraph
from markdown_it.token import Token
from PIL import Image

from leadjourney.escape import xml_text
from leadjourney.reports.html_writer import is_local, parser

WIDE_TABLE = 7  # columns: from here on the document turns landscape
MONO = "Consolas"
HEADER_FILL = "E8EAED"


@dataclass
class _Cell:
    inline: Token
    align: str | None


@dataclass
class _Row:
    cells: list[_Cell] = field(default_factory=list)
    header: bool = False


def to_docx(title: str, markdown: str, images: Mapping[str, bytes]) -> bytes:
    """A .docx of ``markdown`` with ``images`` (file name -> PNG bytes) embedded (control characters from data,
    which XML cannot hold, dropped)."""
    tokens = parser().parse(xml_text(markdown))
    doc = Document()
    doc.core_properties.title = xml_text(title)
    doc.core_properties.author = "leadjourney"
    wide = max((_columns(tokens, i) for i, t in enumerate(tokens) if t.type == "table_open"), default=0)
    section = doc.sections[0]
    if wide >= WIDE_TABLE:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    margin = Inches(0.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, margin)
    usable = int(section.page_width or Inches(8.5)) - 2 * margin
    tall = int(section.page_height or Inches(11)) - 2 * margin - int(Inches(0.6))  # room for a caption line
    _Walker(doc, images, usable, tall).walk(tokens)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _columns(tokens: Sequence[Token], start: int) -> int:
    n = 0
    for tok in tokens[start:]:
        if tok.type == "th_open":
            n += 1
        elif tok.type in ("tr_close", "table_close"):
            break
    return n


class _Walker:
    def __init__(self, doc: DocxDocument, images: Mapping[str, bytes], usable_width: int, usable_height: int) -> None:
        self.doc = doc
        self.images = images
        self.width, self.height = usable_width, usable_height
        self.lists: list[str] = []
        self.quote = 0

    def walk(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "heading_open":
                p = self.doc.add_heading(level=min(int(tok.tag[1]), 4))
                self.inline(p, tokens[i + 1])
                i += 3
                continue
            if kind == "paragraph_open":
                p = self.doc.add_paragraph(style=self.paragraph_style())
                self.inline(p, tokens[i + 1])
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
                i = self.table(tokens, i)
                continue
            elif kind in ("fence", "code_block"):
                p = self.doc.add_paragraph()
                run = p.add_run(tok.content.rstrip("\n"))
                run.font.name = MONO
                run.font.size = Pt(9)
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
        with Image.open(io.BytesIO(content)) as im:
            px_w, px_h = im.size
        # at least 150 dpi on paper, within the page's width and height
        width = min(self.width, int(Inches(px_w / 150)), int(self.height * px_w / px_h))
        p.add_run().add_picture(io.BytesIO(content), width=width)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def table(self, tokens: Sequence[Token], i: int) -> int:
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
        self.build_table(rows)
        return i + 1

    def build_table(self, rows: list[_Row]) -> None:
        n_cols = max((len(r.cells) for r in rows), default=0)
        if not n_cols:
            return
        size = 8.0 if n_cols >= WIDE_TABLE else 9.0
        table: Table = self.doc.add_table(rows=len(rows), cols=n_cols)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = _widths(rows, n_cols, self.width)
        for r, row in enumerate(rows):
            doc_row = table.rows[r]
            if row.header:
                _repeat_header(doc_row)
            targets = doc_row.cells  # table.cell(r, c) re-reads the whole grid on every call
            for c, cell in enumerate(row.cells):
                target = targets[c]
                target.width = widths[c]
                p = target.paragraphs[0]
                self.inline(p, cell.inline, size)
                if row.header:
                    for run in p.runs:
                        run.bold = True
                    _shade(target, HEADER_FILL)
                if cell.align == "right":
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif cell.align == "center":
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.doc.add_paragraph()


def _widths(rows: list[_Row], n_cols: int, total: int) -> list[Emu]:
    """Column widths in proportion to their longest text (capped, so one long cell cannot starve the rest)."""
    longest = [4] * n_cols
    for row in rows:
        for c, cell in enumerate(row.cells):
            longest[c] = max(longest[c], min(60, len(cell.inline.content)))
    weight = sum(longest)
    return [Emu(total * n // weight) for n in longest]


def _shade(cell: DocxCell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _repeat_header(row: DocxRow) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)
