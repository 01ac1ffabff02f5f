"""The Word documents' template: fonts, headings in the engagement's colour, a footer with page numbers.

Built on python-docx's default template (no binary template to ship): Arial throughout (LibreOffice
sets it in the metric-compatible Liberation Sans), headings and table headers in ``[engagement] color``,
and a footer naming the engagement and the document with "page N of M" fields Word and LibreOffice
fill in. No file path or user name goes into a document.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Inches, Pt, RGBColor
from docx.table import Table
from docx.table import _Cell as DocxCell
from docx.table import _Row as DocxRow
from docx.text.paragraph import Paragraph

FONT = "Arial"
BODY_PT, TABLE_PT, FOOTER_PT = 10.0, 9.0, 8.0
TEXT, MUTED, RULE = RGBColor(0x20, 0x21, 0x24), RGBColor(0x5F, 0x63, 0x68), "D0D4DA"
HEADINGS = {1: 20.0, 2: 14.0, 3: 11.5, 4: 10.5}
MARGIN = Inches(0.75)


def hex_color(value: str) -> RGBColor:
    """``#1A73E8`` as an RGBColor (a malformed value falls back to the default blue)."""
    text = value.lstrip("#")
    try:
        return RGBColor.from_string(text.upper())
    except ValueError:
        return RGBColor(0x1A, 0x73, 0xE8)


def _font(rpr_owner: object, name: str) -> None:
    """Name the font in every script slot, dropping the theme fonts that would override it."""
    rpr = rpr_owner.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), name)


def apply_template(doc: DocxDocument, brand: str) -> None:
    """Body, heading, list and caption styles: one font, sizes by level, headings in the brand colour."""
    colour = hex_color(brand)
    styles = doc.styles
    normal = styles["Normal"]
    _font(normal.element, FONT)
    normal.font.size = Pt(BODY_PT)
    normal.font.color.rgb = TEXT
    normal.paragraph_format.space_after = Pt(5)
    normal.paragraph_format.line_spacing = 1.12
    for level, size in HEADINGS.items():
        style = styles[f"Heading {level}"]
        _font(style.element, FONT)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = colour if level <= 2 else TEXT
        style.paragraph_format.space_before = Pt(14 if level <= 2 else 10)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    for name in ("Quote", "Footer", "Caption"):
        _font(styles[name].element, FONT)
    styles["Quote"].font.color.rgb = MUTED


def set_orientation(section: Section, landscape: bool) -> None:
    """US Letter, portrait or landscape, with the template's margins."""
    short, long_ = Inches(8.5), Inches(11)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long_, short) if landscape else (short, long_)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    section.footer_distance = Inches(0.4)


def usable(landscape: bool) -> tuple[int, int]:
    """The text area (EMU width, height) of a page in that orientation."""
    short, long_ = int(Inches(8.5)), int(Inches(11))
    w, h = (long_, short) if landscape else (short, long_)
    return w - 2 * int(MARGIN), h - 2 * int(MARGIN)


def _field(p: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) the reader's application fills in."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        run = p.add_run()
        run.font.size = Pt(FOOTER_PT)
        run.font.color.rgb = MUTED
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
            run._r.append(el)
        else:
            run.text = text or ""


def add_footer(section: Section, engagement: str, title: str) -> None:
    """"Engagement · Document · page N of M", centred, muted, on every page (later sections link to it)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    lead = " · ".join(x for x in (engagement, title) if x)
    for text, field in ((f"{lead} · page " if lead else "page ", "PAGE"), (" of ", "NUMPAGES")):
        run = p.add_run(text)
        run.font.size = Pt(FOOTER_PT)
        run.font.color.rgb = MUTED
        _field(p, field)


def shade(cell: DocxCell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def repeat_header(row: DocxRow) -> None:
    """The row repeats at the top of every page the table runs onto, and never splits."""
    _row_flags(row, ("w:cantSplit", "w:tblHeader"))


def keep_together(row: DocxRow) -> None:
    """The row never splits across pages (half a cell at a page's foot, the rest under the next header)."""
    _row_flags(row, ("w:cantSplit",))


def _row_flags(row: DocxRow, tags: tuple[str, ...]) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    for tag in tags:
        el = OxmlElement(tag)
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


TBL_PR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook")


def _put(tbl_pr: object, el: object) -> None:
    """Insert ``el`` into the table properties in the schema's order (Word rejects any other)."""
    tag = el.tag.split("}", 1)[1]  # type: ignore[attr-defined]
    for old in tbl_pr.findall(qn(f"w:{tag}")):  # type: ignore[attr-defined]
        tbl_pr.remove(old)  # type: ignore[attr-defined]
    later = TBL_PR_ORDER[TBL_PR_ORDER.index(tag) + 1:]
    for child in tbl_pr:  # type: ignore[attr-defined]
        if child.tag.split("}", 1)[1] in later:
            child.addprevious(el)
            return
    tbl_pr.append(el)  # type: ignore[attr-defined]


def fix_grid(table: Table, widths_twips: list[int]) -> None:
    """Fixed layout with the grid's columns at ``widths_twips`` (LibreOffice reads the grid, Word the cells),
    thin grey rules."""
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(sum(widths_twips)))
    width.set(qn("w:type"), "dxa")
    _put(tbl_pr, width)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), RULE)
        borders.append(el)
    _put(tbl_pr, borders)
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_twips, strict=True):
        col.set(qn("w:w"), str(w))
