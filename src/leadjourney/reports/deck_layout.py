"""The deck's slide geometry, type sizes and colours, shared by the slides' writers."""

from __future__ import annotations

from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches

TITLE_PT, BODY_PT, TABLE_PT, NOTE_PT, FOOTER_PT, CARD_PT = 28, 20, 14, 14, 11, 14
MAX_ROWS = 5
MAX_CARDS = 4  # personas shown as cards side by side; more: the table
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN, TOP = Inches(0.5), Inches(1.45)
CAPTION_MIN, CAPTION_PT = Inches(3.0), 16  # room a caption beside a picture needs; its size
FOOTNOTE_PT = 11  # a picture's footnotes, as slide text under it
LEGEND_PT, LEGEND_LINES = 12, 24  # the matrix's legend beside it: its size, the lines that fit 5.5 in
INNER = Emu(WIDTH - 2 * MARGIN)  # the content width
BOTTOM = Emu(HEIGHT - Inches(0.55))  # content ends above the footer
INK, MUTED, WHITE, BAND = (RGBColor(0x20, 0x21, 0x24), RGBColor(0x5F, 0x63, 0x68), RGBColor(0xFF, 0xFF, 0xFF),
                           RGBColor(0xF1, 0xF3, 0xF4))
