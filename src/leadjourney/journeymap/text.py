"""Text on the map: the one font every renderer uses, measuring, wrapping, and number formats.

Layout measures with the package's DejaVu Sans Condensed (``leadjourney/fonts``: Latin with its extensions,
Greek, Cyrillic, arrows, currency and math signs; no system font needed), so a picture draws "Qualifié",
"Łódź" or "Маркетинг" as written; what it still lacks (a CJK name) is drawn in words or ASCII
(:func:`drawable`). The SVG and HTML embed the same font, so a label that fits in the PNG fits in a browser.
Bold is synthesized in every renderer, so it is measured a little wider.
"""

from __future__ import annotations

import base64
import io
import unicodedata
from datetime import datetime
from functools import lru_cache
from importlib.resources import files

from PIL import ImageFont

from leadjourney.display import days as days  # the one days formatter ("3.9 d")
from leadjourney.display import money as money  # the one money formatter ("$825k")
from leadjourney.display import percent as pct  # noqa: F401  (the one percent formatter, as the map calls it)

FONT_FAMILY = "LJ DejaVu Sans Condensed"
FALLBACK_FAMILIES = "'DejaVu Sans Condensed', 'Helvetica Neue', Helvetica, Arial, sans-serif"
FONT_FILE = "DejaVuSansCondensed-subset.ttf"  # in leadjourney/fonts, with its licence
BOLD_WIDENING = 1.08
ELLIPSIS = "…"


@lru_cache(maxsize=1)
def font_bytes() -> bytes:
    """The bundled font file."""
    return (files("leadjourney") / "fonts" / FONT_FILE).read_bytes()


@lru_cache(maxsize=64)
def font(size: float) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size`` pixels."""
    return ImageFont.truetype(io.BytesIO(font_bytes()), size=size)


@lru_cache(maxsize=1)
def font_base64() -> str:
    """The bundled font file as base64, to embed in SVG/HTML."""
    return base64.b64encode(font_bytes()).decode("ascii")


# characters the bundled font has no glyph for, in words or ASCII (a picture never shows an empty box)
MISSING_GLYPHS = {"\u2192": "to", "\u2190": "from", "\u2265": ">=", "\u2264": "<=", "\u00d7": "x",  # arrows, >=, <=, times
                  "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'",  # dashes, quotes
                  "\u201c": '"', "\u201d": '"', "✓": "yes", "✔": "yes", "★": "*", "⋆": "*", "▲": "^", "▼": "v",
                  "•": "·", "€": "EUR ", "£": "GBP ", "¥": "JPY ", "₹": "INR ", "ß": "ss", "æ": "ae", "Æ": "AE",
                  "œ": "oe", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}
UNDRAWABLE = "?"  # a character with no glyph and no ASCII form (a CJK name): better than an empty box


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int] | None:
    """The code points the bundled font has glyphs for (its cmap; None without fontTools)."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    return frozenset(TTFont(io.BytesIO(font_bytes())).getBestCmap())


@lru_cache(maxsize=4096)
def _has_glyph(char: str) -> bool:
    cmap = _cmap()
    if cmap is not None:
        return ord(char) in cmap
    f = font(24)  # without fontTools: a glyph Pillow draws as the .notdef box is missing
    mask, box = f.getmask(char), f.getmask("\ue000")
    return (bytes(mask), mask.size) != (bytes(box), box.size)


def missing_glyphs(text: str) -> list[str]:
    """The characters of ``text`` the bundled font cannot draw (each once, in order)."""
    return list(dict.fromkeys(c for c in text if not c.isspace() and not _has_glyph(c)))


def drawable(text: str) -> str:
    """``text`` as Pillow draws it with the bundled font: "MQL → SQL" as "MQL to SQL", "≥" as ">=", an accent the
    font lacks as its base letter, anything else without a glyph as "?" (never an empty box)."""
    for char in missing_glyphs(text):
        if char in MISSING_GLYPHS:
            text = text.replace(char, MISSING_GLYPHS[char])
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        text = text.replace(char, base if base != char and _has_glyph(base) else UNDRAWABLE)
    return text


@lru_cache(maxsize=8192)
def measure(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in pixels, as drawn (:func:`drawable`)."""
    f = font(size)
    text = drawable(text)
    width = float(f.getlength(text)) if hasattr(f, "getlength") else 0.6 * size * len(text)
    return width * (BOLD_WIDENING if bold else 1.0)


def truncate(text: str, width: float, size: float, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``width``."""
    if measure(text, size, bold) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + ELLIPSIS, size, bold) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo else ""


def fitting_size(text: str, width: float, size: float, smallest: float, bold: bool = False) -> float:
    """The largest size from ``size`` down to ``smallest`` (1 px steps) at which ``text`` fits ``width``;
    ``smallest`` when none does (the caller truncates then)."""
    while size > smallest and measure(text, size, bold) > width:
        size -= 1
    return max(size, smallest)


def fit(text: str, width: float, size: float, smallest: float, bold: bool = False) -> tuple[str, float]:
    """``text`` and the size it is drawn at: shrunk toward ``smallest`` to fit ``width`` whole, and cut with an
    ellipsis only when it does not fit even there."""
    size = fitting_size(text, width, size, smallest, bold)
    return truncate(text, width, size, bold), size


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int = 3) -> list[str]:
    """Greedy word wrap to ``width``; the last allowed line is truncated."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for i, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if measure(trial, size, bold) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
    if current:
        lines.append(current)
    return [truncate(line, width, size, bold) for line in lines[:max_lines]]


def ci(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{100 * low:.1f}-{100 * high:.1f}%"


def date_text(value: str | None) -> str:
    """``2026-06-29T23:58:39`` as ``2026-06-29``."""
    return "-" if not value else datetime.fromisoformat(value).strftime("%Y-%m-%d")
